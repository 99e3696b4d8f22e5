"""Celery tasks for events: each takes ids and calls one function."""

from celery import shared_task

from . import emails


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
