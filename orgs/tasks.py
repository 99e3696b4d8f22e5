"""Celery tasks for organizations: each takes ids and calls one function."""

from celery import shared_task

from core.outbox import OutboxTask

from . import digest, emails


@shared_task(base=OutboxTask, acks_late=True)
def officer_invitation_send(invitation_id: int) -> bool:
    """E-mail an officer invitation, once."""
    return emails.invitation_email_send(invitation_id=invitation_id)


@shared_task(base=OutboxTask, acks_late=True)
def digest_send(user_id: int, week: str) -> bool:
    """E-mail one student's weekly digest of new events, once per week."""
    return digest.digest_email_send(user_id=user_id, week=week)


@shared_task(acks_late=True)
def digests_queue_weekly() -> int:
    """Beat, weekly: an outbox row per student owed this week's digest."""
    return digest.digests_queue()
