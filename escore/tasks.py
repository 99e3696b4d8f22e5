"""Celery tasks for the E-score: each takes ids (or nothing) and calls one service.

The tasks that writes record in the outbox (`base=OutboxTask`) are retried by the outbox;
the beat sweeps retry a Redis failure here, with back-off. The services are idempotent, so
a retry, or a redelivery after a worker died (acks_late), adds nothing to the ledger and
only repeats the refresh.
"""

from celery import shared_task
from redis import RedisError

from core.outbox import OutboxTask

from . import services

RETRY = {
    "acks_late": True,
    "autoretry_for": (RedisError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


@shared_task(base=OutboxTask, acks_late=True)
def score_attendance_sync(registration_id: int) -> int:
    """After a check-in or its undo: make ledger and leaderboards match; returns entries added."""
    return len(services.score_attendance_sync(registration_id=registration_id))


@shared_task(**RETRY)
def score_organizer_award(event_id: int) -> bool:
    return services.score_organizer_award(event_id=event_id) is not None


@shared_task(**RETRY)
def score_organizer_awards_due() -> int:
    """Beat: award organizers of events that ended (sweep by time, idempotent)."""
    return services.score_organizer_awards_due()


@shared_task(base=OutboxTask, acks_late=True)
def leaderboard_refresh_user(user_id: int) -> None:
    """After a change of leaderboard visibility (or any ledger change made elsewhere)."""
    services.leaderboard_refresh_user(user_id=user_id)


@shared_task(**RETRY)
def score_attendance_reconcile() -> int:
    """Beat: catch up check-ins whose sync task never ran."""
    return services.score_attendance_reconcile()


@shared_task(**RETRY)
def leaderboard_reconcile() -> int:
    """Beat: report and repair drift between the ledger and Redis; returns students repaired."""
    return sum(report.drift for report in services.leaderboard_reconcile())


@shared_task(base=OutboxTask, acks_late=True)
def dispute_decision_email_send(dispute_id: int) -> bool:
    """Tell the student their score dispute was accepted or rejected, once."""
    from . import emails

    return emails.dispute_decision_email_send(dispute_id=dispute_id)


@shared_task(base=OutboxTask, acks_late=True)
def dispute_opened_email_send(dispute_id: int) -> int:
    """Tell those who decide a new score dispute about it, once each; returns e-mails sent."""
    from . import emails

    return emails.dispute_opened_email_send(dispute_id=dispute_id)
