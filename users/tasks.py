"""Celery tasks for accounts: the daily clean-up. Each calls one service and logs its count."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def unverified_users_delete() -> int:
    """Beat, daily: delete sign-ups that never confirmed their address and hold no data."""
    count = services.user_delete_unverified(
        older_than=timedelta(days=settings.UNVERIFIED_ACCOUNT_MAX_AGE_DAYS)
    )
    logger.info("Deleted %d unverified accounts", count)
    return count


@shared_task(acks_late=True)
def expired_sessions_delete() -> int:
    """Beat, daily: what `manage.py clearsessions` does, with a count."""
    count = services.session_delete_expired()
    logger.info("Deleted %d expired sessions", count)
    return count
