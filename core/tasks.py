"""Celery tasks of the platform: the outbox relay and its clean-up (beat runs both)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import metrics, outbox


@shared_task(acks_late=True)
def outbox_relay() -> int:
    """Beat, every few seconds: hand due outbox rows to Celery and report the outbox's state."""
    handed = outbox.relay()
    for name, value in outbox.report().items():
        metrics.gauge(f"outbox.{name}", value)
    return handed


@shared_task(acks_late=True)
def outbox_prune() -> int:
    """Beat, daily: delete rows done longer ago than OUTBOX_RETENTION_DAYS."""
    return outbox.prune(older_than=timedelta(days=settings.OUTBOX_RETENTION_DAYS))
