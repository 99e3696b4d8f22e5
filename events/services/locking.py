"""The event row lock: every change to an event's seats or details runs inside it.

Taking a seat locks the event row (`SELECT … FOR UPDATE`), waiting at most LOCK_TIMEOUT_MS,
so the last seat is sold once however many requests race for it; the counters on the event
(`seats_taken`, `waitlist_count`) move in the same transaction as the rows they count.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from django.db.models import F

from events.errors import EventNotFound, RegistrationBusy
from events.models import EventPost

logger = logging.getLogger(__name__)

# How long a request waits for another one holding the same event's lock. Each holder keeps
# it for a few milliseconds, so waiting longer than this means something is stuck: answer
# "try again" instead of holding a web worker and a database connection indefinitely.
LOCK_TIMEOUT_MS = 3000

# The event columns the registration rules read; the rest of the wide row stays on disk.
_RULE_FIELDS = (
    "organizer",
    "organization",
    "visibility",
    "title",
    "status",
    "starts_at",
    "ends_at",
    "capacity",
    "seats_taken",
    "waitlist_count",
    "seats_beyond_capacity",
    "walk_ins_beyond_capacity",
    "no_show_grace_minutes",
    "registration_required",
    "registration_opens_at",
    "registration_closes_at",
    "cancellation_deadline",
    "guests_max",
)

# PostgreSQL's SQLSTATE for lock_not_available, raised when lock_timeout expires.
_LOCK_NOT_AVAILABLE = "55P03"


def _lock_event(*, event_id: int) -> EventPost:
    """Lock and return the event row; every change to its seats goes through here."""
    return EventPost.objects.select_for_update(of=("self",)).only(*_RULE_FIELDS).get(pk=event_id)


@contextmanager
def event_locked(*, event_id: int, whole_row: bool = False) -> Iterator[EventPost]:
    """A transaction holding the event's row lock, waiting at most LOCK_TIMEOUT_MS for it.

    `whole_row` loads every column, for the organizer's edits; registrations need few.
    """
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Transaction-local (SET LOCAL), so it is safe behind PgBouncer's
                # transaction pooling and never leaks into the next request.
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)", [f"{LOCK_TIMEOUT_MS}ms"]
                )
            try:
                if whole_row:
                    event = EventPost.objects.select_for_update(of=("self",)).get(pk=event_id)
                else:
                    event = _lock_event(event_id=event_id)
            except EventPost.DoesNotExist as exc:
                raise EventNotFound() from exc
            yield event
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            logger.warning("Timed out waiting for the lock on event %s", event_id)
            raise RegistrationBusy() from exc
        raise


def counters_add(
    *, event: EventPost, seats: int = 0, waitlist: int = 0, beyond_capacity: int = 0
) -> None:
    """Move the event's counters by the given amounts, in the database and in memory.

    Relative updates, so that even a caller that forgot the lock cannot overwrite another
    transaction's count; the CHECK constraint then stops an oversell instead of a lost
    update hiding it. `beyond_capacity` counts walk-ins the organizer let in past the
    capacity: the constraint allows seats_taken that much above it, and no more.
    """
    EventPost.objects.filter(pk=event.pk).update(
        seats_taken=F("seats_taken") + seats,
        waitlist_count=F("waitlist_count") + waitlist,
        seats_beyond_capacity=F("seats_beyond_capacity") + beyond_capacity,
    )
    event.seats_taken += seats
    event.waitlist_count += waitlist
    event.seats_beyond_capacity += beyond_capacity
