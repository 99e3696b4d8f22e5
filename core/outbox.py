"""The transactional outbox: every side effect of an accepted action, carried out at least once.

A write that has a side effect (an e-mail, a score award, a geocode, a leaderboard refresh)
calls `add(task, *args)` inside its own transaction: the side effect is a row committed with
the action, or rolled back with it. The request never talks to the broker.

- `relay()` (beat, every OUTBOX_RELAY_SECONDS) hands due rows to Celery and leases them for
  OUTBOX_LEASE_SECONDS, so a row whose message or worker was lost is handed over again.
- The task (base class `OutboxTask`) claims its row, so two copies never run it at once,
  runs, and marks the row done; on an error the row waits an exponential back-off
  (OUTBOX_RETRY_BASE_SECONDS doubling up to OUTBOX_RETRY_MAX_SECONDS) and is tried again,
  until it has failed for OUTBOX_DEAD_AFTER_HOURS: then it is a dead letter, which staff
  see in the admin and resend (`resend`).
- `run_due()` runs due rows in this process, without the broker (`manage.py outbox run`).

Tasks must be idempotent: a row is run at least once, and more than once when a worker dies
after the side effect and before marking the row done. E-mails are sent once per key
(events/emails/delivery.py); score awards are unique in the ledger.

No kept library fitted: django-celery-outbox and the Celery "transactional outbox" recipes
publish from on_commit hooks (the broker on the request path) or need a second broker
topology; this module is the small part of them that E-Ren needs.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Protocol

from celery import Task, current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.db.models.functions import Now
from django.utils import timezone

from . import metrics
from .models import OutboxMessage

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status


class Runnable(Protocol):
    """A Celery task: it has a name."""

    name: str


def add(task: Runnable, *args: int | str, key: str | None = None) -> None:
    """Record `task(*args)` in the current transaction; it runs after the commit.

    `key` names what makes the side effect distinct: a second row with the same key is not
    added (a sweep that finds the same owed reminder twice adds it once). Without one,
    every call is its own side effect.
    """
    key = key or f"{task.name}:{','.join(map(str, args))}:{uuid.uuid4().hex}"
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(task=task.name, args=list(args), key=key)], ignore_conflicts=True
    )


def _lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def _due(limit: int) -> list[OutboxMessage]:
    """Due rows, oldest first, locked for this transaction; rows another relay holds are skipped."""
    return list(
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(status=Status.PENDING, available_at__lte=timezone.now())
        .order_by("available_at", "pk")[:limit]
    )


def relay(*, limit: int = 500, queue: str | None = None) -> int:
    """Hand due rows to Celery and lease them; returns how many were handed over.

    Publishing is bounded by the broker timeouts in settings (CELERY_BROKER_*): with the broker
    down, the first failure ends this round and the rows stay due for the next.
    """
    handed: list[int] = []
    with transaction.atomic():
        for message in _due(limit):
            task = current_app.tasks.get(message.task)
            if task is None:
                _schedule_retry(message, f"No task named {message.task!r} is registered.")
                continue
            options = {"queue": queue} if queue else {}
            try:
                task.apply_async(message.args, {"outbox_id": message.pk}, **options)
            except Exception as error:
                logger.warning("outbox: the broker took no message (%s); retrying later", error)
                break
            handed.append(message.pk)
        OutboxMessage.objects.filter(pk__in=handed).update(available_at=timezone.now() + _lease())
    return len(handed)


def run_due(*, limit: int = 500) -> int:
    """Run due rows here, one after another, without the broker; returns how many ran.

    For draining by hand (`manage.py outbox run`) and for tests that stand in for the relay
    and a worker.
    """
    ran = 0
    while ran < limit:
        with transaction.atomic():
            batch = _due(min(100, limit - ran))
            OutboxMessage.objects.filter(pk__in=[m.pk for m in batch]).update(
                available_at=timezone.now() + _lease()
            )
        if not batch:
            return ran
        for message in batch:
            run_one(message)
            ran += 1
    return ran


def run_one(message: OutboxMessage) -> None:
    """Run one row's task here (it claims the row, and marks it done or failed)."""
    task = current_app.tasks.get(message.task)
    if task is None:
        _schedule_retry(message, f"No task named {message.task!r} is registered.")
        return
    task(*message.args, outbox_id=message.pk)


def claim(message_id: int) -> bool:
    """Take the row for one run: False when it is done, dead or being run by another copy."""
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, status=Status.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + _lease(), attempts=F("attempts") + 1)
    )
    return claimed == 1


def mark_done(message_id: int) -> None:
    OutboxMessage.objects.filter(pk=message_id).update(
        status=Status.DONE, done_at=timezone.now(), locked_until=None, last_error=""
    )


def mark_failed(message_id: int, error: BaseException) -> None:
    """Schedule the next attempt, or make the row a dead letter once it failed long enough."""
    message = OutboxMessage.objects.filter(pk=message_id).first()
    if message is not None:
        _schedule_retry(message, f"{type(error).__name__}: {error}")


def backoff(attempts: int) -> timedelta:
    """The wait before attempt `attempts + 1`: doubling from the base, capped, ±20% jitter."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    seconds = min(base, settings.OUTBOX_RETRY_MAX_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311 - jitter only


def _schedule_retry(message: OutboxMessage, error: str) -> None:
    now = timezone.now()
    failing_since = message.failing_since or now
    dead = now - failing_since >= timedelta(hours=settings.OUTBOX_DEAD_AFTER_HOURS)
    OutboxMessage.objects.filter(pk=message.pk, status=Status.PENDING).update(
        status=Status.DEAD if dead else Status.PENDING,
        available_at=now + backoff(message.attempts),
        failing_since=failing_since,
        locked_until=None,
        last_error=error[:2000],
    )
    if dead:
        logger.error("outbox: %s gave up after %d attempts: %s", message, message.attempts, error)
        metrics.increment("outbox.dead_letters", tags={"task": message.task})
    else:
        logger.warning("outbox: %s failed (attempt %d): %s", message, message.attempts, error)


def resend(message_ids: Iterable[int]) -> int:
    """Dead letters back to pending, due now, with a new day of attempts; returns how many."""
    return OutboxMessage.objects.filter(pk__in=list(message_ids), status=Status.DEAD).update(
        status=Status.PENDING,
        attempts=0,
        available_at=Now(),
        failing_since=None,
        locked_until=None,
    )


def prune(*, older_than: timedelta) -> int:
    """Delete done rows older than `older_than`; returns how many."""
    count, _ = OutboxMessage.objects.filter(
        status=Status.DONE, done_at__lt=timezone.now() - older_than
    ).delete()
    return count


def report() -> dict[str, float]:
    """What operators watch: pending rows, the oldest one's age in seconds, dead letters."""
    pending = OutboxMessage.objects.filter(status=Status.PENDING).aggregate(
        oldest=Min("created_at")
    )
    oldest = pending["oldest"]
    return {
        "pending": OutboxMessage.objects.filter(status=Status.PENDING).count(),
        "oldest_pending_seconds": (timezone.now() - oldest).total_seconds() if oldest else 0.0,
        "dead": OutboxMessage.objects.filter(status=Status.DEAD).count(),
    }


class OutboxTask(Task):
    """Base of every task that `add` records: claims its row, then marks it done or failed.

    Called without `outbox_id` (a test, a shell) it is a plain task. The outbox does the
    retrying, so these tasks never retry by themselves and an error never reaches Celery.
    """

    # `outbox_id` is this class's argument, not the task function's: skip Celery's check of
    # the arguments against the function's signature.
    typing = False

    def __call__(self, *args: Any, outbox_id: int | None = None, **kwargs: Any) -> Any:
        if outbox_id is None:
            return super().__call__(*args, **kwargs)
        if not claim(outbox_id):
            return None
        try:
            result = super().__call__(*args, **kwargs)
        except Exception as error:
            mark_failed(outbox_id, error)
            return None
        mark_done(outbox_id)
        return result
