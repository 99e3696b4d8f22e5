"""Celery tasks for events: each takes ids and calls one function."""

from celery import shared_task
from django.conf import settings

from . import emails, geocoding, search


@shared_task(
    acks_late=True,
    # SMTP failures (smtplib.SMTPException is an OSError) and dropped connections are
    # worth another try; anything else is a bug and goes to Sentry.
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def registration_email_send(registration_id: int, kind: str) -> bool:
    """Tell the student about their registration: confirmed, waitlisted or promoted.

    A seam for the jobs issue, which replaces it with templated HTML + .ics and an
    idempotency record (until then a retry after a send that did go out sends it again).
    """
    return emails.registration_email_send(registration_id=registration_id, kind=kind)


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def event_cancelled_email_send(event_id: int) -> int:
    """Tell the event's registrants it is cancelled (the jobs issue templatizes it)."""
    return emails.event_cancelled_email_send(event_id=event_id)


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def organizer_message_send(message_id: int) -> int:
    """E-mail an organizer's message to the event's confirmed students."""
    return emails.organizer_message_email_send(message_id=message_id)


@shared_task(
    acks_late=True,
    autoretry_for=(geocoding.GeocodingRetryableError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
    # Per worker, not global: with N workers Google sees up to N times this rate. The
    # cache, not this limit, is what keeps the month within the free tier.
    rate_limit=settings.GOOGLE_GEOCODING_RATE_LIMIT,
)
def event_geocode_task(event_id: int) -> str | None:
    """Place an event on the map (Google, or the campus gazetteer without a key)."""
    return geocoding.event_geocode(event_id=event_id)


@shared_task(acks_late=True)
def geocode_cache_prune_task() -> int:
    """Drop cached Google answers past their age (beat runs this daily)."""
    return geocoding.geocode_cache_prune(older_than_days=settings.GEOCODE_CACHE_MAX_AGE_DAYS)


@shared_task(acks_late=True)
def search_words_refresh_task() -> None:
    """Beat: refresh the did-you-mean vocabulary with the titles of new and edited events."""
    search.search_words_refresh()
