"""Check-in at the door: the single place attendance changes, and the E-score sync it queues."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core import clock, metrics, outbox
from escore import tasks as escore_tasks
from events import permissions, tickets
from events.errors import (
    ActionForbidden,
    CheckInClosed,
    EventCancelled,
    EventStateConflict,
    NotRegistered,
)
from events.models import EventPost, EventRegistration
from users.models import User


@dataclass(frozen=True)
class CheckInOutcome:
    registration: EventRegistration
    # False when the registration was already checked in (or, for undo, was not).
    changed: bool


def _registration_lock_for_check_in(*, registration_id: int, by: User) -> EventRegistration:
    registration = (
        EventRegistration.objects.select_for_update(of=("self",))
        .select_related("event", "user")
        .filter(pk=registration_id)
        .first()
    )
    if registration is None:
        raise NotRegistered("There is no such registration.")
    permissions.event_check_access(
        user=by, event=registration.event, action=permissions.Action.CHECK_IN
    )
    return registration


@transaction.atomic
def registration_check_in(*, registration_id: int, by: User) -> CheckInOutcome:
    """Mark the student as attending. Checking in twice is harmless (`changed` is False).

    Only the event's organizer and staff, only for confirmed registrations of an event that
    is not cancelled, only from an hour before the start to six hours after the end
    (`EventPost.check_in_opens_at`, `check_in_closes_at`). Never the event's own organizer,
    whoever scans: organizing earns the organizer award, not attendance points.
    """
    registration = _registration_lock_for_check_in(registration_id=registration_id, by=by)
    event = registration.event
    if registration.user_id == event.organizer_id:
        raise ActionForbidden(
            "The event's organizer cannot be checked in to their own event: organizing earns "
            "the organizer award instead."
        )
    if event.status == EventPost.Status.CANCELLED:
        raise EventCancelled("This event was cancelled; there is nothing to check in to.")
    if registration.checked_in_at is not None:
        return CheckInOutcome(registration=registration, changed=False)
    if registration.status != EventRegistration.Status.CONFIRMED:
        raise EventStateConflict(
            f"Only confirmed students can be checked in; this registration is "
            f"{registration.get_status_display().lower()}."
        )
    opens_at, closes_at = event.check_in_opens_at, event.check_in_closes_at
    now = timezone.now()
    if now < opens_at:
        raise CheckInClosed(
            f"Check-in opens an hour before the start: {clock.day_and_time(opens_at)}."
        )
    if now > closes_at:
        raise CheckInClosed(
            f"Check-in closed six hours after the end: {clock.day_and_time(closes_at)}."
        )
    registration.checked_in_at = now
    registration.save(update_fields=["checked_in_at", "updated_at"])
    _score_sync_queue(registration_id=registration.pk)
    metrics.increment_on_commit("check_ins")
    return CheckInOutcome(registration=registration, changed=True)


@transaction.atomic
def registration_check_in_undo(*, registration_id: int, by: User) -> CheckInOutcome:
    """Take a check-in back (a mistake at the door). Undoing twice is harmless."""
    registration = _registration_lock_for_check_in(registration_id=registration_id, by=by)
    if registration.checked_in_at is None:
        return CheckInOutcome(registration=registration, changed=False)
    registration.checked_in_at = None
    registration.save(update_fields=["checked_in_at", "updated_at"])
    _score_sync_queue(registration_id=registration.pk)
    return CheckInOutcome(registration=registration, changed=True)


def _score_sync_queue(*, registration_id: int) -> None:
    """Make the E-score ledger match the check-in: an outbox row of the check-in's transaction.

    With the broker down the check-in still stands and the award follows when it is back.
    """
    outbox.add(escore_tasks.score_attendance_sync, registration_id)


def registration_check_in_by_ticket(*, token: str, by: User) -> CheckInOutcome:
    """Check in the registration a scanned ticket names (see events.tickets)."""
    registration = tickets.ticket_registration_get(token)
    return registration_check_in(registration_id=registration.pk, by=by)
