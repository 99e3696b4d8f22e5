"""Writes for events: registration, cancellation and the waitlist.

Every write that changes who holds a seat runs in one transaction that locks the event row
first, so the last seat is sold once however many requests race for it, and the counters on
the event (`seats_taken`, `waitlist_count`) always equal the rows they count. Side effects
(e-mails) are queued with `transaction.on_commit`, so a rolled-back registration sends
nothing.

Errors the user caused are the classes in `events.errors`, re-exported here.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core import clock, metrics
from core.dispatch import dispatch_on_commit
from core.ratelimits import rate_describe, rate_parse
from escore import tasks as escore_tasks
from users.models import User
from users.selectors import user_has_verified_school_email

from . import permissions, tasks, tickets
from .errors import (
    ActionForbidden,  # noqa: F401 - re-exported for views and the API
    AlreadyCheckedIn,
    CheckInClosed,
    EmailUnverified,
    EventCancelled,
    EventClosed,
    EventInvalid,
    EventNotFound,
    EventNotOpen,  # noqa: F401 - re-exported for views and the API
    EventStateConflict,
    MessageRateLimited,
    NotAuthenticated,  # noqa: F401 - re-exported for views and the API
    NotEligible,
    NotRegistered,
    RegistrationBusy,
    RegistrationError,  # noqa: F401 - re-exported for views and the API
    TicketInvalid,  # noqa: F401 - re-exported for views and the API
)
from .models import (
    EmailDelivery,
    EventCategory,
    EventChange,
    EventPost,
    EventRegistration,
    OrganizerMessage,
)

EmailKind = EmailDelivery.Kind

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


def registration_check_eligibility(*, user: User) -> None:
    """Raise NotEligible unless the user may register for events.

    The one place that decides who may register: an active account whose address is a
    verified school e-mail (EmailUnverified, which the pages and API turn into "confirm your
    e-mail, or send the link again").
    """
    if not user.is_authenticated or not user.is_active:
        raise NotEligible()
    if not user_has_verified_school_email(user=user):
        raise EmailUnverified()


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
            # By id: the locked event is a partial instance, not for callers to render.
            registration = EventRegistration.objects.create(
                event_id=event.pk, user=user, status=status, registered_at=now
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
            _email_on_commit(registration=seated, kind=EmailKind.PROMOTED)
        _email_on_commit(
            registration=registration,
            kind=EmailKind.CONFIRMED if confirmed else EmailKind.WAITLISTED,
        )
        metrics.increment_on_commit("registrations.created", tags={"status": status})
    return registration


def registration_cancel(*, event_id: int, user: User) -> EventRegistration:
    """Cancel the student's registration; a freed seat goes to the first student waiting.

    Allowed until the event starts. Cancelling an already cancelled registration returns it
    unchanged (a double submit is harmless); a checked-in registration cannot be cancelled.
    """
    if not user.is_authenticated:
        raise NotRegistered()
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
        metrics.increment_on_commit("registrations.cancelled")

        for seated in _waitlist_fill(event=event):
            _email_on_commit(registration=seated, kind=EmailKind.PROMOTED)
    return registration


def registration_forget(*, event_id: int, user: User) -> None:
    """Delete the user's registration whatever the event's state (the account is closing).

    The counters follow the rows; a seat freed before the event starts goes to the waitlist.
    """
    with _event_locked(event_id=event_id) as event:
        registration = (
            EventRegistration.objects.select_for_update().filter(event=event, user=user).first()
        )
        if registration is None:
            return
        if registration.status == EventRegistration.Status.CONFIRMED:
            _counters_add(event=event, seats=-1)
        elif registration.status == EventRegistration.Status.WAITLISTED:
            _counters_add(event=event, waitlist=-1)
        registration.delete()
        if event.status == EventPost.Status.PUBLISHED and event.starts_at > timezone.now():
            for seated in _waitlist_fill(event=event):
                _email_on_commit(registration=seated, kind=EmailKind.PROMOTED)


def _lock_event(*, event_id: int) -> EventPost:
    """Lock and return the event row; every change to its seats goes through here."""
    return EventPost.objects.select_for_update(of=("self",)).only(*_RULE_FIELDS).get(pk=event_id)


@contextmanager
def _event_locked(*, event_id: int, whole_row: bool = False) -> Iterator[EventPost]:
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


def _check_open(*, event: EventPost) -> None:
    """Raise why registration is not open (`EventPost.registration_open`), if it is not."""
    if event.registration_open:
        return
    if event.status == EventPost.Status.DRAFT:
        raise EventNotFound()
    if event.status == EventPost.Status.CANCELLED:
        raise EventCancelled()
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


def _email_on_commit(*, registration: EventRegistration, kind: EmailKind) -> None:
    dispatch_on_commit(tasks.registration_email_send, registration.pk, kind.value)


# --- Organizer tools ------------------------------------------------------------------------

DESCRIPTION_MAX_LENGTH = 5000
CANCELLATION_REASON_MAX_LENGTH = 1000

# The fields an organizer edits; counters, status and coordinates are the services' own.
EVENT_EDITABLE_FIELDS = (
    "title",
    "description",
    "category",
    "starts_at",
    "ends_at",
    "location_name",
    "address",
    "capacity",
)
# Changing these makes the stored coordinates wrong: the jobs issue geocodes them again.
_GEOCODED_FIELDS = ("location_name", "address")
# Changing these e-mails everyone registered (an EventChange row, then events.emails).
_TIME_AND_PLACE_FIELDS = ("starts_at", "ends_at", "location_name", "address")


@dataclass(frozen=True)
class CheckInOutcome:
    registration: EventRegistration
    # False when the registration was already checked in (or, for undo, was not).
    changed: bool


def _local(moment: datetime) -> str:
    return clock.local_text(moment, "l, F j, g:i A T")


def _event_validate(*, event: EventPost) -> None:
    """Raise EventInvalid with every field error of the event's editable data."""
    errors: dict[str, list[str]] = {}
    for name in ("title", "location_name", "address", "description"):
        value = getattr(event, name)
        setattr(event, name, value.strip() if isinstance(value, str) else value)
    if len(event.description) > DESCRIPTION_MAX_LENGTH:
        errors.setdefault("description", []).append(
            f"Keep the description under {DESCRIPTION_MAX_LENGTH:,} characters."
        )
    if event.starts_at and event.ends_at and event.ends_at <= event.starts_at:
        errors.setdefault("ends_at", []).append("The event must end after it starts.")
    if event.capacity is not None and event.capacity < 1:
        errors.setdefault("capacity", []).append(
            "Capacity must be at least 1; leave it blank for unlimited."
        )
    try:
        # Lengths, required fields, the category; the constraints are checked above in words.
        event.full_clean(validate_constraints=False, validate_unique=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise EventInvalid(errors)


def event_create(
    *,
    organizer: User,
    title: str,
    category: EventCategory,
    starts_at: datetime,
    ends_at: datetime,
    location_name: str,
    description: str = "",
    address: str = "",
    capacity: int | None = None,
) -> EventPost:
    """A new draft event; publishing is a separate step (`event_publish`)."""
    permissions.event_check_create(user=organizer)
    event = EventPost(
        organizer=organizer,
        title=title,
        description=description,
        category=category,
        starts_at=starts_at,
        ends_at=ends_at,
        location_name=location_name,
        address=address,
        capacity=capacity,
        status=EventPost.Status.DRAFT,
        geocode_status=EventPost.GeocodeStatus.PENDING,
    )
    _event_validate(event=event)
    event.save()
    event_geocode_enqueue(event_id=event.pk)
    return event


def event_update(*, event_id: int, by: User, **changes) -> EventPost:
    """Change an event's details.

    Capacity may not go below the seats already confirmed; raising it (or making it
    unlimited) seats waitlisted students at once, first come first served, and tells them.
    A new address or place name resets the coordinates until the geocoding job finds them.
    """
    unknown = set(changes) - set(EVENT_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    with _event_locked(event_id=event_id, whole_row=True) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.EDIT)
        if event.status == EventPost.Status.CANCELLED:
            raise EventStateConflict("A cancelled event can no longer be edited.")
        changed = [name for name, value in changes.items() if getattr(event, name) != value]
        before = {name: getattr(event, name) for name in _TIME_AND_PLACE_FIELDS}
        for name in changed:
            setattr(event, name, changes[name])
        _event_validate(event=event)
        if event.capacity is not None and event.capacity < event.seats_taken:
            raise EventInvalid(
                {
                    "capacity": [
                        f"{event.seats_taken} students already hold a seat, so the capacity "
                        f"cannot be lower than {event.seats_taken}."
                    ]
                }
            )
        if (
            "starts_at" in changed
            and event.status == EventPost.Status.PUBLISHED
            and event.starts_at <= timezone.now()
        ):
            raise EventInvalid({"starts_at": ["A published event cannot start in the past."]})
        update_fields = [*changed, "updated_at"]
        if any(name in changed for name in _GEOCODED_FIELDS):
            event.geocode_status = EventPost.GeocodeStatus.PENDING
            event.latitude = event.longitude = None
            update_fields += ["geocode_status", "latitude", "longitude"]
        event.save(update_fields=update_fields)
        if event.geocode_status == EventPost.GeocodeStatus.PENDING:
            event_geocode_enqueue(event_id=event.pk)
        if "capacity" in changed and event.status == EventPost.Status.PUBLISHED:
            for seated in _waitlist_fill(event=event):
                _email_on_commit(registration=seated, kind=EmailKind.PROMOTED)
        if any(before[name] != getattr(event, name) for name in _TIME_AND_PLACE_FIELDS):
            _event_change_record(event=event, by=by, before=before)
    return event


def _event_change_record(*, event: EventPost, by: User, before: dict) -> None:
    """Record a time or place change and e-mail it, after commit, to everyone registered.

    Only for a published event with someone registered: a draft has nobody to tell.
    """
    if event.status != EventPost.Status.PUBLISHED or not (
        event.seats_taken or event.waitlist_count
    ):
        return
    change = EventChange.objects.create(
        event=event,
        changed_by=by,
        **{f"{name}_before": value for name, value in before.items()},
        **{f"{name}_after": getattr(event, name) for name in _TIME_AND_PLACE_FIELDS},
    )
    dispatch_on_commit(tasks.event_changed_email_send, change.pk)


def event_publish(*, event_id: int, by: User) -> EventPost:
    """Draft → published. Publishing a published event again changes nothing."""
    with _event_locked(event_id=event_id, whole_row=True) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.PUBLISH)
        if event.status == EventPost.Status.PUBLISHED:
            return event
        if event.status == EventPost.Status.CANCELLED:
            raise EventStateConflict("A cancelled event cannot be published again.")
        if event.starts_at <= timezone.now():
            raise EventStateConflict(
                "This event's start time has passed. Move it to a future time, then publish."
            )
        event.status = EventPost.Status.PUBLISHED
        event.save(update_fields=["status", "updated_at"])
    return event


def event_unpublish(*, event_id: int, by: User) -> EventPost:
    """Staff moderation: published → draft, hidden from students until published again."""
    with _event_locked(event_id=event_id, whole_row=True) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.UNPUBLISH)
        if event.status == EventPost.Status.CANCELLED:
            raise EventStateConflict("A cancelled event cannot be unpublished.")
        if event.status == EventPost.Status.PUBLISHED:
            event.status = EventPost.Status.DRAFT
            event.save(update_fields=["status", "updated_at"])
    return event


def event_place(*, event_id: int, by: User, latitude: float, longitude: float) -> EventPost:
    """The organizer puts the event on the map by hand; geocoding leaves it alone from now on.

    A later change of place name or address sends it back to geocoding.
    """
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise EventInvalid({"__all__": ["Latitude or longitude is out of range."]})
    with _event_locked(event_id=event_id, whole_row=True) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.EDIT)
        event.latitude, event.longitude = latitude, longitude
        event.geocode_status = EventPost.GeocodeStatus.MANUAL
        event.save(update_fields=["latitude", "longitude", "geocode_status", "updated_at"])
    return event


def event_cancel(*, event_id: int, by: User, reason: str) -> EventPost:
    """Cancel the event with a reason students see; everyone registered gets an e-mail.

    Registrations keep their status, so My events shows "cancelled by the organizer".
    Cancelling a cancelled event changes nothing and sends nothing.
    """
    reason = reason.strip()
    with _event_locked(event_id=event_id, whole_row=True) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.CANCEL)
        if event.status == EventPost.Status.CANCELLED:
            return event
        if not reason:
            raise EventInvalid({"reason": ["Tell the students why the event is cancelled."]})
        if len(reason) > CANCELLATION_REASON_MAX_LENGTH:
            raise EventInvalid(
                {"reason": [f"Keep it under {CANCELLATION_REASON_MAX_LENGTH:,} characters."]}
            )
        was_published = event.status == EventPost.Status.PUBLISHED
        event.status = EventPost.Status.CANCELLED
        event.cancellation_reason = reason
        event.cancelled_at = timezone.now()
        event.cancelled_by = by
        event.save(
            update_fields=[
                "status",
                "cancellation_reason",
                "cancelled_at",
                "cancelled_by",
                "updated_at",
            ]
        )
        if was_published and (event.seats_taken or event.waitlist_count):
            dispatch_on_commit(tasks.event_cancelled_email_send, event.pk)
    return event


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
    (`EventPost.check_in_opens_at`, `check_in_closes_at`).
    """
    registration = _registration_lock_for_check_in(registration_id=registration_id, by=by)
    event = registration.event
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
        raise CheckInClosed(f"Check-in opens an hour before the start: {_local(opens_at)}.")
    if now > closes_at:
        raise CheckInClosed(f"Check-in closed six hours after the end: {_local(closes_at)}.")
    registration.checked_in_at = now
    registration.save(update_fields=["checked_in_at", "updated_at"])
    _score_sync_on_commit(registration_id=registration.pk)
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
    _score_sync_on_commit(registration_id=registration.pk)
    return CheckInOutcome(registration=registration, changed=True)


def _score_sync_on_commit(*, registration_id: int) -> None:
    """Make the E-score ledger match the check-in, after it commits.

    With Redis (the broker) down the check-in still stands; the attendance reconcile on beat
    finds the unscored check-in and awards it.
    """
    dispatch_on_commit(escore_tasks.score_attendance_sync, registration_id)


def event_geocode_enqueue(*, event_id: int) -> None:
    """Geocode the event on the queue once the current transaction commits.

    Called by the services that create an event or change its location name or address
    (after setting `geocode_status` back to pending).
    """
    dispatch_on_commit(tasks.event_geocode_task, event_id)


def registration_check_in_by_ticket(*, token: str, by: User) -> CheckInOutcome:
    """Check in the registration a scanned ticket names (see events.tickets)."""
    registration = tickets.ticket_registration_get(token)
    return registration_check_in(registration_id=registration.pk, by=by)


def organizer_message_send(*, event_id: int, by: User, subject: str, body: str) -> OrganizerMessage:
    """Queue an e-mail from the organizer to every confirmed student.

    At most settings.RATELIMITS["organizer_message_event"] per event (3 in any hour unless
    configured otherwise), counted from the rows;
    the event's row lock makes two organizers sending at once count each other.
    """
    subject, body = subject.strip(), body.strip()
    with _event_locked(event_id=event_id, whole_row=True) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.MESSAGE)
        errors: dict[str, list[str]] = {}
        if not subject:
            errors["subject"] = ["Write a subject."]
        if not body:
            errors["body"] = ["Write a message."]
        message = OrganizerMessage(event=event, sent_by=by, subject=subject, body=body)
        try:
            message.full_clean(exclude=["event", "sent_by"])
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        if errors:
            raise EventInvalid(errors)
        now = timezone.now()
        rate = settings.RATELIMITS["organizer_message_event"]
        allowed, seconds = rate_parse(rate)
        window = timedelta(seconds=seconds)
        recent = list(
            OrganizerMessage.objects.filter(event=event, created_at__gt=now - window)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        if len(recent) >= allowed:
            next_at = recent[-allowed] + window
            raise MessageRateLimited(
                f"You can e-mail this event's students {rate_describe(rate)}. "
                f"Try again after {_local(next_at)}.",
                retry_after=max(int((next_at - now).total_seconds()) + 1, 1),
            )
        message.created_at = now
        message.recipient_count = EventRegistration.objects.filter(
            event=event, status=EventRegistration.Status.CONFIRMED
        ).count()
        message.save()
        dispatch_on_commit(tasks.organizer_message_send, message.pk)
    return message
