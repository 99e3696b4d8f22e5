"""Writes for events: registration, cancellation and the waitlist.

Every write that changes who holds a seat runs in one transaction that locks the event row
first, so the last seat is sold once however many requests race for it, and the counters on
the event (`seats_taken`, `waitlist_count`) always equal the rows they count. Side effects
(e-mails) are queued with `transaction.on_commit`, so a rolled-back registration sends
nothing.

Errors the student caused are `RegistrationError` subclasses with a user-facing `message`,
a machine `code` and the HTTP status a view should answer with (`http_status`); views map
them to 4xx pages or the API's error shape and never let them become a 500.

| exception              | code               | http_status |
|------------------------|--------------------|-------------|
| EventNotFound          | not_found          | 404         |
| EventCancelled         | event_cancelled    | 409         |
| EventClosed            | event_closed       | 409         |
| NotRegistered          | not_registered     | 404         |
| AlreadyCheckedIn       | already_checked_in | 409         |
| NotEligible            | not_eligible       | 403         |
| RegistrationBusy       | busy               | 503         |
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from users.models import User

from . import tasks
from .emails import RegistrationEmailKind
from .models import EventPost, EventRegistration

logger = logging.getLogger(__name__)

# How long a request waits for another one holding the same event's lock. Each holder keeps
# it for a few milliseconds, so waiting longer than this means something is stuck: answer
# "try again" instead of holding a web worker and a database connection indefinitely.
LOCK_TIMEOUT_MS = 3000

# The event columns the registration rules read; the rest of the wide row stays on disk.
_RULE_FIELDS = (
    "title",
    "status",
    "starts_at",
    "ends_at",
    "capacity",
    "seats_taken",
    "waitlist_count",
)

# PostgreSQL's SQLSTATE for lock_not_available, raised when lock_timeout expires.
_LOCK_NOT_AVAILABLE = "55P03"


class RegistrationError(Exception):
    """A registration request that cannot be carried out, for a reason the student can read."""

    code = "registration_error"
    http_status = 409
    default_message = "This registration could not be completed."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class EventNotFound(RegistrationError):
    # Drafts answer like missing events: they are private to their organizer.
    code = "not_found"
    http_status = 404
    default_message = "There is no such event."


class EventNotOpen(RegistrationError):
    """The event exists but does not take registrations or cancellations any more."""


class EventCancelled(EventNotOpen):
    code = "event_cancelled"
    default_message = "This event was cancelled."


class EventClosed(EventNotOpen):
    code = "event_closed"
    default_message = "This event has already started; registration is closed."


class NotRegistered(RegistrationError):
    code = "not_registered"
    http_status = 404
    default_message = "You are not registered for this event."


class AlreadyCheckedIn(RegistrationError):
    code = "already_checked_in"
    default_message = "You have already been checked in, so this registration cannot be cancelled."


class NotEligible(RegistrationError):
    code = "not_eligible"
    http_status = 403
    default_message = "Your account cannot register for events."


class RegistrationBusy(RegistrationError):
    code = "busy"
    http_status = 503
    default_message = "Many students are registering for this event right now. Please try again."


def registration_check_eligibility(*, user: User) -> None:
    """Raise NotEligible unless the user may register for events.

    The one place that decides who may register. The accounts issue makes this require a
    verified school e-mail by adding one condition here, e.g.
    `or not EmailAddress.objects.filter(user=user, verified=True).exists()`.
    """
    if not user.is_authenticated or not user.is_active:
        raise NotEligible()


def registration_create(*, event_id: int, user: User) -> EventRegistration:
    """Register the student: a confirmed seat while seats remain, else the end of the waitlist.

    Registration closes when the event starts. Registering again while registered returns
    the existing registration unchanged (a double submit is harmless); a cancelled
    registration is re-activated at the back of the queue.
    """
    registration_check_eligibility(user=user)
    with _event_locked(event_id=event_id) as event:
        _check_open(event=event)
        registration = EventRegistration.objects.filter(event=event, user=user).first()
        if registration is not None and registration.status != EventRegistration.Status.CANCELLED:
            return registration

        # Seats freed without a promotion (e.g. capacity raised) go to the queue first.
        promoted = _waitlist_fill(event=event)
        confirmed = not event.is_full
        status = (
            EventRegistration.Status.CONFIRMED if confirmed else EventRegistration.Status.WAITLISTED
        )
        now = timezone.now()
        if registration is None:
            registration = EventRegistration.objects.create(
                event=event, user=user, status=status, registered_at=now
            )
        else:
            registration.status = status
            registration.registered_at = now
            registration.cancelled_at = None
            registration.save(
                update_fields=["status", "registered_at", "cancelled_at", "updated_at"]
            )
        if confirmed:
            _counters_add(event=event, seats=1)
        else:
            _counters_add(event=event, waitlist=1)

        for seated in promoted:
            _email_on_commit(registration=seated, kind=RegistrationEmailKind.PROMOTED)
        _email_on_commit(
            registration=registration,
            kind=RegistrationEmailKind.CONFIRMED if confirmed else RegistrationEmailKind.WAITLISTED,
        )
    return registration


def registration_cancel(*, event_id: int, user: User) -> EventRegistration:
    """Cancel the student's registration; a freed seat goes to the first student waiting.

    Allowed until the event starts. Cancelling an already cancelled registration returns it
    unchanged (a double submit is harmless); a checked-in registration cannot be cancelled.
    """
    with _event_locked(event_id=event_id) as event:
        _check_open(event=event)
        registration = (
            EventRegistration.objects.select_for_update().filter(event=event, user=user).first()
        )
        if registration is None:
            raise NotRegistered()
        if registration.status == EventRegistration.Status.CANCELLED:
            return registration
        if registration.checked_in_at is not None:
            raise AlreadyCheckedIn()

        was_confirmed = registration.status == EventRegistration.Status.CONFIRMED
        registration.status = EventRegistration.Status.CANCELLED
        registration.cancelled_at = timezone.now()
        registration.save(update_fields=["status", "cancelled_at", "updated_at"])
        if was_confirmed:
            _counters_add(event=event, seats=-1)
        else:
            _counters_add(event=event, waitlist=-1)

        for seated in _waitlist_fill(event=event):
            _email_on_commit(registration=seated, kind=RegistrationEmailKind.PROMOTED)
    return registration


def _lock_event(*, event_id: int) -> EventPost:
    """Lock and return the event row; every change to its seats goes through here."""
    return EventPost.objects.select_for_update(of=("self",)).only(*_RULE_FIELDS).get(pk=event_id)


@contextmanager
def _event_locked(*, event_id: int) -> Iterator[EventPost]:
    """A transaction holding the event's row lock, waiting at most LOCK_TIMEOUT_MS for it."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Transaction-local (SET LOCAL), so it is safe behind PgBouncer's
                # transaction pooling and never leaks into the next request.
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)", [f"{LOCK_TIMEOUT_MS}ms"]
                )
            try:
                event = _lock_event(event_id=event_id)
            except EventPost.DoesNotExist as exc:
                raise EventNotFound() from exc
            yield event
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            logger.warning("Timed out waiting for the lock on event %s", event_id)
            raise RegistrationBusy() from exc
        raise


def _check_open(*, event: EventPost) -> None:
    """Registration and cancellation are open from publication until the event starts."""
    if event.status == EventPost.Status.DRAFT:
        raise EventNotFound()
    if event.status == EventPost.Status.CANCELLED:
        raise EventCancelled()
    if event.starts_at <= timezone.now():
        raise EventClosed()


def _counters_add(*, event: EventPost, seats: int = 0, waitlist: int = 0) -> None:
    """Move the event's counters by the given amounts, in the database and in memory.

    Relative updates, so that even a caller that forgot the lock cannot overwrite another
    transaction's count; the CHECK constraint then stops an oversell instead of a lost
    update hiding it.
    """
    EventPost.objects.filter(pk=event.pk).update(
        seats_taken=F("seats_taken") + seats, waitlist_count=F("waitlist_count") + waitlist
    )
    event.seats_taken += seats
    event.waitlist_count += waitlist


def _waitlist_fill(*, event: EventPost) -> list[EventRegistration]:
    """Confirm waitlisted students, first come first served, while seats are free.

    Must run with the event locked. Returns the promoted registrations.
    """
    if event.waitlist_count == 0:
        return []
    queue = EventRegistration.objects.filter(
        event=event, status=EventRegistration.Status.WAITLISTED
    ).order_by("registered_at", "pk")
    if event.capacity is not None:
        free_seats = event.capacity - event.seats_taken
        if free_seats <= 0:
            return []
        queue = queue[:free_seats]
    promoted = list(queue)
    if not promoted:
        return []
    EventRegistration.objects.filter(pk__in=[r.pk for r in promoted]).update(
        status=EventRegistration.Status.CONFIRMED, updated_at=timezone.now()
    )
    for registration in promoted:
        registration.status = EventRegistration.Status.CONFIRMED
    _counters_add(event=event, seats=len(promoted), waitlist=-len(promoted))
    return promoted


def _email_on_commit(*, registration: EventRegistration, kind: RegistrationEmailKind) -> None:
    # robust: once the registration is committed, a broker outage must not turn the answer
    # into an error; the failure is logged and the jobs issue's reconcile catches it up.
    transaction.on_commit(
        partial(tasks.registration_email_send.delay, registration.pk, kind.value), robust=True
    )
