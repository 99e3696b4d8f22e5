"""Celery tasks for events: each takes ids and calls one function.

The tasks that writes record in the outbox (`base=OutboxTask`) are retried by the outbox,
with back-off, for a day; they are safe to run more than once: events.emails sends each
e-mail once per key, and geocoding writes the same answer again.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction

from core import outbox
from core.outbox import OutboxTask

from . import emails, geocoding, search

logger = logging.getLogger(__name__)


@shared_task(base=OutboxTask, acks_late=True)
def registration_email_send(registration_id: int, kind: str) -> bool:
    """Tell the student about their registration: confirmed, waitlisted or promoted."""
    return emails.registration_email_send(registration_id=registration_id, kind=kind)


@shared_task(base=OutboxTask, acks_late=True)
def event_cancelled_email_send(event_id: int) -> int:
    """Tell the event's registrants it is cancelled, with the organizer's reason."""
    return emails.event_cancelled_email_send(event_id=event_id)


@shared_task(base=OutboxTask, acks_late=True)
def event_changed_email_send(change_id: int) -> int:
    """Tell the event's registrants its time or place changed."""
    return emails.event_changed_email_send(change_id=change_id)


@shared_task(base=OutboxTask, acks_late=True)
def organizer_message_send(message_id: int) -> int:
    """E-mail an organizer's message to the event's confirmed students."""
    return emails.organizer_message_email_send(message_id=message_id)


@shared_task(base=OutboxTask, acks_late=True)
def registration_reminder_send(registration_id: int) -> bool:
    """Remind the student of tomorrow's event, once."""
    return emails.reminder_email_send(registration_id=registration_id)


# How many reminders one sweep queues; the next sweep (minutes later) takes the rest.
REMINDER_SWEEP_BATCH = 2000


@shared_task(acks_late=True)
def reminders_queue_due() -> int:
    """Beat, every few minutes: queue a reminder for every registration owed one.

    The send time is computed from the database (the event's start), never held in the
    broker. A registration queued twice (a sweep runs again before the worker got to it)
    still gets one e-mail: the reminder task re-checks and the delivery record dedupes.
    """
    registrations = list(
        emails.reminders_due().values_list("pk", "event__starts_at")[:REMINDER_SWEEP_BATCH]
    )
    with transaction.atomic():
        for registration_id, starts_at in registrations:
            # Keyed like the e-mail: a sweep that finds it owed again adds nothing.
            key = f"reminder:{registration_id}:{starts_at.isoformat()}"
            outbox.add(registration_reminder_send, registration_id, key=key)
    logger.info("Queued %d reminder e-mails", len(registrations))
    return len(registrations)


@shared_task(acks_late=True)
def no_shows_release_due() -> int:
    """Beat, every minute: release no-shows' seats to the waitlist where the organizer asked."""
    # Imported here: the services import this module (their outbox rows name its tasks).
    from .services import no_shows

    return no_shows.no_shows_release_due()


@shared_task(acks_late=True)
def email_deliveries_delete_old() -> int:
    """Beat, daily: drop e-mail idempotency records past their retention."""
    count = emails.email_delivery_delete_old(
        older_than=timedelta(days=settings.EMAIL_DELIVERY_RETENTION_DAYS)
    )
    logger.info("Deleted %d e-mail delivery records", count)
    return count


@shared_task(
    base=OutboxTask,
    acks_late=True,
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


@shared_task(acks_late=True, ignore_result=True)
def search_prefix_index_refresh_task() -> int | None:
    """Beat, every minute: rebuild the suggestions' Redis index when events changed or it is
    old (prefix_index.STALE_SECONDS); suggestions use PostgreSQL until it exists."""
    return search.prefix_index_refresh()


@shared_task(base=OutboxTask, acks_late=True)
def saved_search_alert_send(saved_search_id: int, day: str) -> bool:
    """E-mail a saved search's new matches, at most once a day."""
    # Imported here: it imports the services, which import this module.
    from .emails import saved_searches

    return saved_searches.saved_search_alert_send(saved_search_id=saved_search_id, day=day)


@shared_task(acks_late=True)
def saved_search_alerts_queue() -> int:
    """Beat, daily: an outbox row per saved search with e-mails on."""
    from .emails import saved_searches

    return saved_searches.saved_search_alerts_queue()
