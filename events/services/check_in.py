"""Check-in: the single place attendance changes, and the E-score sync it queues.

Every way in ends in `_attend`, whose rules (`_check_in_rules`: the event's state, the
check-in window, a confirmed seat) are the one answer for all of them:

- a ticket the organizer scans (`registration_check_in_by_ticket`);
- a tap on the roster at the door (`registration_check_in`);
- a walk-in the organizer adds by their school e-mail (`walk_in_check_in`);
- the event code on the student's own phone (`check_in_by_code`).

Locks: checking in a student who holds a seat locks only their registration row, so a
hundred students checking in at once do not queue behind one event lock. Seating a walk-in
moves the event's counters, so it locks the event row first, as registering does; so does
the no-show release (`no_shows.py`), which then locks the registrations it releases. A late
check-in and the release of the same seat therefore queue on the registration row, and
whichever comes second sees what the first did: a released seat is not checked in, a
checked-in student is not released.

Each change is an `AttendanceRecord` (who, when, how) in the same transaction, and its
E-score follows through the outbox: the ledger appends compensating entries on an undo, it
never deletes (escore.services.ledger).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core import clock, metrics, outbox
from escore import tasks as escore_tasks
from events import check_in_codes, permissions, tickets
from events.errors import (
    CheckInClosed,
    EmailUnverified,
    EventCancelled,
    EventFull,
    EventStateConflict,
    LocationRequired,
    NoAccount,
    NotEligible,
    NotRegistered,
    OrganizerNotAttendee,
    SeatReleased,
    TooFarAway,
)
from events.models import AttendanceRecord, EventPost, EventRegistration
from events.places import distance_m
from users.addresses import email_canonical
from users.models import User
from users.school_email import school_email_domains_display, school_email_is_allowed

from .locking import counters_add, event_locked
from .registration import registration_check_eligibility

Method = AttendanceRecord.Method
Action = AttendanceRecord.Action

# A phone's own estimate of its error counts in the student's favour, up to this much.
POSITION_ACCURACY_ALLOWANCE_M = 100.0


@dataclass(frozen=True)
class CheckInOutcome:
    registration: EventRegistration
    # False when the registration was already checked in (or, for undo, was not).
    changed: bool


@dataclass(frozen=True)
class Position:
    """Where the student's phone says it is, for the location check; never stored."""

    latitude: float
    longitude: float
    accuracy_m: float | None = None


def _registration_locked(**filters) -> EventRegistration | None:
    """The registration, its row locked until the transaction ends: a check-in's only lock."""
    return (
        EventRegistration.objects.select_for_update(of=("self",))
        .select_related("event", "user")
        .filter(**filters)
        .first()
    )


def _registration_lock_for_check_in(*, registration_id: int, by: User) -> EventRegistration:
    registration = _registration_locked(pk=registration_id)
    if registration is None:
        raise NotRegistered("There is no such registration.")
    permissions.event_check_access(
        user=by, event=registration.event, action=permissions.Action.CHECK_IN
    )
    return registration


def _check_in_open(*, event: EventPost, now: datetime) -> None:
    """Raise unless attendance may change now: not cancelled, inside the check-in window."""
    if event.status == EventPost.Status.CANCELLED:
        raise EventCancelled("This event was cancelled; there is nothing to check in to.")
    opens_at, closes_at = event.check_in_opens_at, event.check_in_closes_at
    if now < opens_at:
        raise CheckInClosed(
            f"Check-in opens an hour before the start: {clock.day_and_time(opens_at)}."
        )
    if now > closes_at:
        raise CheckInClosed(
            f"Check-in closed six hours after the end: {clock.day_and_time(closes_at)}."
        )


def _check_in_rules(
    *, registration: EventRegistration, event: EventPost, now: datetime, late: bool = False
) -> None:
    """Raise unless this registration, not checked in yet, may be checked in now.

    The one rule for every way in: a further rule (someone who may never be checked in to
    an event) belongs here. `late`: an accepted score dispute, which may come after the
    check-in window (but never for a cancelled event).
    """
    if registration.user_id == event.organizer_id:
        # Whoever scans, and however they come in (ticket, door, walk-in, code).
        raise OrganizerNotAttendee()
    if registration.status != EventRegistration.Status.CONFIRMED:
        if event.status == EventPost.Status.CANCELLED:
            _check_in_open(event=event, now=now)
        if registration.released_at is not None:
            raise SeatReleased(
                f"{registration.user.get_full_name()}'s seat went to the waitlist at "
                f"{clock.day_and_time(registration.released_at)}: not checked in "
                f"{event.no_show_grace_minutes} minutes after the start. Add them as a walk-in "
                "if the room has space."
            )
        raise EventStateConflict(
            f"Only confirmed students can be checked in; this registration is "
            f"{registration.get_status_display().lower()}."
        )
    if late:
        if event.status == EventPost.Status.CANCELLED:
            raise EventCancelled("This event was cancelled; there is nothing to check in to.")
        return
    _check_in_open(event=event, now=now)


def _attend(
    *, registration: EventRegistration, event: EventPost, by: User, method: str, late: bool = False
) -> CheckInOutcome:
    """Check in a registration whose row the caller has locked. Harmless when already in."""
    if registration.checked_in_at is not None:
        return CheckInOutcome(registration=registration, changed=False)
    now = timezone.now()
    _check_in_rules(registration=registration, event=event, now=now, late=late)
    registration.checked_in_at = now
    registration.save(update_fields=["checked_in_at", "updated_at"])
    _record(registration=registration, action=Action.CHECKED_IN, method=method, by=by, now=now)
    metrics.increment_on_commit("check_ins", tags={"method": method})
    return CheckInOutcome(registration=registration, changed=True)


def _record(
    *, registration: EventRegistration, action: str, method: str, by: User | None, now: datetime
) -> None:
    """The attendance change's record and its E-score sync, in the change's transaction."""
    AttendanceRecord.objects.create(
        registration=registration, action=action, method=method, by=by, created_at=now
    )
    _score_sync_queue(registration_id=registration.pk)


@transaction.atomic
def registration_check_in(
    *, registration_id: int, by: User, method: str = Method.DOOR
) -> CheckInOutcome:
    """Mark the student as attending. Checking in twice is harmless (`changed` is False).

    Only the event's organizer and staff, only for confirmed registrations of an event that
    is not cancelled, only from an hour before the start to six hours after the end
    (`EventPost.check_in_opens_at`, `check_in_closes_at`).
    """
    registration = _registration_lock_for_check_in(registration_id=registration_id, by=by)
    return _attend(registration=registration, event=registration.event, by=by, method=method)


@transaction.atomic
def registration_check_in_undo(*, registration_id: int, by: User) -> CheckInOutcome:
    """Take a check-in back (a mistake at the door). Undoing twice is harmless.

    Only while check-in is open: once it closes, attendance (and the organizer's award
    counted from it) is final. Recorded with who undid it; the E-score award is reversed by
    a compensating ledger entry.
    """
    registration = _registration_lock_for_check_in(registration_id=registration_id, by=by)
    if registration.checked_in_at is None:
        return CheckInOutcome(registration=registration, changed=False)
    now = timezone.now()
    _check_in_open(event=registration.event, now=now)
    registration.checked_in_at = None
    registration.save(update_fields=["checked_in_at", "updated_at"])
    _record(registration=registration, action=Action.UNDONE, method=Method.DOOR, by=by, now=now)
    return CheckInOutcome(registration=registration, changed=True)


def _score_sync_queue(*, registration_id: int) -> None:
    """Make the E-score ledger match the check-in: an outbox row of the check-in's transaction.

    With the broker down the check-in still stands and the award follows when it is back.
    """
    outbox.add(escore_tasks.score_attendance_sync, registration_id)


def registration_check_in_by_ticket(*, token: str, by: User) -> CheckInOutcome:
    """Check in the registration a scanned ticket names (see events.tickets)."""
    registration = tickets.ticket_registration_get(token)
    return registration_check_in(registration_id=registration.pk, by=by, method=Method.TICKET)


# --- Walk-ins ---------------------------------------------------------------------------------


def walk_in_check_in(*, event_id: int, email: str, by: User) -> CheckInOutcome:
    """Seat and check in a student at the door by their school e-mail, registered or not.

    The student needs an E-Ren account with a confirmed school address; nobody gets an
    account made on their behalf. Someone without one signs up on their phone (a minute,
    with the confirmation e-mail) and then checks in with the event code. A student who
    holds a seat is simply checked in; anyone else (unregistered, waitlisted, cancelled,
    released) takes a free seat, or a seat beyond the capacity when the organizer allowed
    walk-ins beyond it (`EventPost.walk_ins_beyond_capacity`).
    """
    email = email.strip()
    with event_locked(event_id=event_id) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.CHECK_IN)
        _check_in_open(event=event, now=timezone.now())
        student = _walk_in_student(email=email)
        return _walk_in(event=event, student=student, by=by, method=Method.WALK_IN)


def _walk_in_student(*, email: str) -> User:
    if not school_email_is_allowed(email):
        raise NotEligible(
            f"Walk-ins need a school account: {school_email_domains_display()}. Check the address."
        )
    # The one spelling of the mailbox (users.addresses), matched exactly.
    student = User.objects.filter(email=email_canonical(email)).first()
    if student is None:
        raise NoAccount(
            f"Nobody has an E-Ren account with {email} yet. They can sign up on their phone "
            "now (it takes a minute with the confirmation e-mail), then check in with the event "
            "code, or you add them here again."
        )
    try:
        registration_check_eligibility(user=student)
    except EmailUnverified as error:
        raise EmailUnverified(
            f"{student.get_full_name()} has not confirmed their e-mail address yet: they log "
            "in and type the code E-Ren e-mails them, then you add them again."
        ) from error
    except NotEligible as error:
        raise NotEligible("This account cannot attend events.") from error
    return student


def _walk_in(
    *, event: EventPost, student: User, by: User, method: str, late: bool = False
) -> CheckInOutcome:
    """Seat the student if needed, then check them in. The caller holds the event's lock.

    `late` (an accepted score dispute): after the check-in window, and a seat beyond the
    capacity whatever the organizer chose, since the student was in the room.
    """
    registration = _registration_locked(event_id=event.pk, user=student)
    if registration is not None and registration.status == EventRegistration.Status.CONFIRMED:
        registration.event = event
        door_method = Method.DOOR if method == Method.WALK_IN else method
        return _attend(registration=registration, event=event, by=by, method=door_method, late=late)
    was_waitlisted = (
        registration is not None and registration.status == EventRegistration.Status.WAITLISTED
    )
    # A waitlisted student comes with the guests they registered; anyone else alone.
    seats = registration.seats if registration is not None and was_waitlisted else 1
    # The walk-in's seats that lie past the capacity.
    beyond_capacity = (
        0
        if event.capacity is None
        else max(0, min(seats, event.seats_taken + seats - event.capacity))
    )
    if beyond_capacity and not (event.walk_ins_beyond_capacity or late):
        raise EventFull(_full_message(event=event, registration=registration, method=method))
    now = timezone.now()
    if registration is None:
        registration = EventRegistration(event_id=event.pk, user=student)
    registration.event = event
    registration.status = EventRegistration.Status.CONFIRMED
    registration.registered_at = now
    registration.cancelled_at = registration.released_at = None
    registration.walk_in = True
    registration.guests = seats - 1
    registration.save()
    counters_add(
        event=event,
        seats=seats,
        waitlist=-seats if was_waitlisted else 0,
        beyond_capacity=beyond_capacity,
    )
    metrics.increment_on_commit("walk_ins", tags={"method": method})
    return _attend(registration=registration, event=event, by=by, method=method, late=late)


def registration_check_in_on_dispute(*, event_id: int, student: User, by: User) -> CheckInOutcome:
    """Check a student in after the fact: the organizer or staff accepted their score dispute
    (escore.services.disputes). Past the check-in window on purpose, never for a cancelled
    event; a seat the no-show release took back is given back (beyond the capacity if need
    be). Recorded with who decided (method `dispute`); the E-score follows as for any
    check-in. Harmless when the student is checked in already.
    """
    with event_locked(event_id=event_id) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.CHECK_IN)
        if event.status == EventPost.Status.CANCELLED:
            raise EventCancelled("This event was cancelled; there is nothing to check in to.")
        return _walk_in(event=event, student=student, by=by, method=Method.DISPUTE, late=True)


def _full_message(*, event: EventPost, registration: EventRegistration | None, method: str) -> str:
    if method != Method.CODE:
        return (
            f"All {event.capacity} seats are taken. If the room has space, turn on "
            "“walk-ins when full” in the check-in settings and add them again."
        )
    if registration is not None and registration.released_at is not None:
        return (
            f"Your seat went to the waitlist at {clock.day_and_time(registration.released_at)}, "
            f"since you had not checked in {event.no_show_grace_minutes} minutes after the "
            "start, and every seat is taken now. Ask the organizer at the door."
        )
    if registration is not None and registration.status == EventRegistration.Status.WAITLISTED:
        return "You are on the waitlist and every seat is taken. Ask the organizer at the door."
    return "Every seat is taken. Ask the organizer at the door."


# --- Self check-in with the event code ---------------------------------------------------------


def check_in_code_show(*, event_id: int, by: User) -> check_in_codes.CheckInCode:
    """The code for the organizer's screen at the door, while check-in is open."""
    event = permissions.event_get_authorized(
        event_id=event_id, user=by, action=permissions.Action.CHECK_IN
    )
    now = timezone.now()
    if event.status == EventPost.Status.DRAFT:
        raise EventStateConflict("Publish the event before showing its check-in code.")
    _check_in_open(event=event, now=now)
    return check_in_codes.code_current(event_id=event.pk, now=now)


def check_in_by_code(
    *, user: User, code: str, event_id: int | None = None, position: Position | None = None
) -> CheckInOutcome:
    """The student checks themselves in with the code on the screen at the door.

    A code is good for 30 to 60 seconds (events.check_in_codes); an account is checked in
    once, however often it sends one. A student who holds a seat is checked in; anyone
    else is a walk-in, by the same capacity rule as at the door. When the organizer set a
    radius, the phone's position must be that close to the event's place.
    """
    registration_check_eligibility(user=user)
    now = timezone.now()
    event = check_in_codes.code_event(code=code, event_id=event_id, now=now)
    _check_in_open(event=event, now=now)
    _check_position(event=event, position=position)
    outcome = _check_in_seated(event=event, student=user)
    if outcome is not None:
        return outcome
    with event_locked(event_id=event.pk) as locked:
        return _walk_in(event=locked, student=user, by=user, method=Method.CODE)


@transaction.atomic
def _check_in_seated(*, event: EventPost, student: User) -> CheckInOutcome | None:
    """Check in the student if they hold a seat (their row lock only); None if they do not."""
    registration = _registration_locked(event_id=event.pk, user=student)
    if registration is None or registration.status != EventRegistration.Status.CONFIRMED:
        return None
    registration.event = event
    return _attend(registration=registration, event=event, by=student, method=Method.CODE)


def _check_position(*, event: EventPost, position: Position | None) -> None:
    if event.check_in_radius_m is None:
        return
    if event.latitude is None or event.longitude is None:
        raise LocationRequired(
            "This event checks that you are in the room, but it is not on the map yet. Ask "
            "the organizer at the door to check you in."
        )
    if position is None:
        raise LocationRequired()
    distance = distance_m(position.latitude, position.longitude, event.latitude, event.longitude)
    allowance = min(position.accuracy_m or 0.0, POSITION_ACCURACY_ALLOWANCE_M)
    if distance - allowance > event.check_in_radius_m:
        raise TooFarAway(
            f"Your phone puts you about {_rounded(distance)} from {event.location_name}; check "
            "in from the room. (Your location was used for this check only and not stored.)"
        )


def _rounded(metres: float) -> str:
    if metres >= 1000:
        return f"{metres / 1000:.1f} km"
    return f"{round(metres, -1):.0f} m"
