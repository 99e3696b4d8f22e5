"""The organizer's writes on an event: create, edit, publish, unpublish, place, cancel."""

import unicodedata
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import outbox
from events import permissions, tasks
from events.access import AccessFeature, features_ordered
from events.errors import EventInvalid, EventStateConflict
from events.models import (
    NO_SHOW_GRACE_DEFAULT_MINUTES,
    EmailDelivery,
    EventCategory,
    EventChange,
    EventPost,
    EventQuestion,
)
from orgs import audit
from orgs.models import OrgActivity, Organization
from users.models import User

from .locking import event_locked
from .waitlist import registration_email_queue, waitlist_fill

EmailKind = EmailDelivery.Kind

DESCRIPTION_MAX_LENGTH = 5000
# The largest hall on campus holds a few thousand; anything above this is a typo.
CAPACITY_MAX = 100_000
CANCELLATION_REASON_MAX_LENGTH = 1000

# The fields an organizer edits; counters, status and coordinates are the services' own.
EVENT_EDITABLE_FIELDS = (
    "title",
    "category",
    "starts_at",
    "ends_at",
    "location_name",
    "address",
    "capacity",
    "description",
    # Attendance (events.services.check_in, no_shows).
    "walk_ins_beyond_capacity",
    "release_no_shows",
    "no_show_grace_minutes",
    "check_in_radius_m",
    # Who may see it (events.permissions.event_check_visibility) and who hosts it.
    "visibility",
    "organization",
    # Registration (events.services.registration).
    "registration_required",
    "registration_opens_at",
    "registration_closes_at",
    "cancellation_deadline",
    "guests_max",
    # Online and hybrid events.
    "mode",
    "join_url",
    # Accessibility (events.access).
    "access_features",
    "allergens",
    "access_contact",
)
# Changing these makes the stored coordinates wrong: the jobs issue geocodes them again.
_GEOCODED_FIELDS = ("location_name", "address")
# Changing these e-mails everyone registered (an EventChange row, then events.emails).
_TIME_AND_PLACE_FIELDS = ("starts_at", "ends_at", "location_name", "address")


# One line each: they go into e-mail subjects, calendar lines and CSV cells.
_ONE_LINE_FIELDS = ("title", "location_name", "address")


def _text_is_one_line(text: str) -> bool:
    """No line or paragraph separator and no other control character (tab included)."""
    return not any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in text)


def _access_errors(*, event: EventPost) -> dict[str, list[str]]:
    """Known features once each (stored in the list's order); food comes with its allergens."""
    errors: dict[str, list[str]] = {}
    features = list(event.access_features or [])
    unknown = [value for value in features if value not in AccessFeature.values]
    if unknown:
        errors["access_features"] = [
            f"Unknown accessibility feature “{str(value)[:40]}”; choose from: "
            f"{', '.join(AccessFeature.values)}."
            for value in unknown
        ]
    event.access_features = features_ordered(features)
    event.allergens = (event.allergens or "").strip()
    event.access_contact = (event.access_contact or "").strip()
    if AccessFeature.FOOD in event.access_features and not event.allergens:
        errors["allergens"] = [
            "List the allergens in the food (or untick “Food, allergens listed”)."
        ]
    for name in ("allergens", "access_contact"):
        if not _text_is_one_line(getattr(event, name)):
            errors.setdefault(name, []).append("Keep this to one line, without line breaks.")
    return errors


def _event_validate(*, event: EventPost) -> None:
    """Raise EventInvalid with every field error of the event's editable data."""
    errors: dict[str, list[str]] = {}
    for name in ("title", "location_name", "address", "description", "join_url"):
        value = getattr(event, name)
        setattr(event, name, value.strip() if isinstance(value, str) else value)
    for name in _ONE_LINE_FIELDS:
        value = getattr(event, name)
        if isinstance(value, str) and not _text_is_one_line(value):
            errors.setdefault(name, []).append("Keep this to one line, without line breaks.")
    if len(event.description) > DESCRIPTION_MAX_LENGTH:
        errors.setdefault("description", []).append(
            f"Keep the description under {DESCRIPTION_MAX_LENGTH:,} characters."
        )
    if event.starts_at and event.ends_at and event.ends_at <= event.starts_at:
        errors.setdefault("ends_at", []).append("The event must end after it starts.")
    if event.visibility == EventPost.Visibility.MEMBERS and event.organization_id is None:
        errors.setdefault("visibility", []).append(
            "Members-only events need a hosting organization: choose one of yours as host."
        )
    errors.update(_registration_window_errors(event=event))
    if event.join_url and event.mode == EventPost.Mode.IN_PERSON:
        errors["join_url"] = ["An in-person event has no join link: choose online or hybrid."]
    elif event.join_url and not event.join_url.lower().startswith("https://"):
        errors["join_url"] = ["Use an https:// link."]
    errors.update(_access_errors(event=event))
    if event.capacity is not None and event.capacity < 1:
        errors.setdefault("capacity", []).append(
            "Capacity must be at least 1; leave it blank for unlimited."
        )
    elif event.capacity is not None and event.capacity > CAPACITY_MAX:
        errors.setdefault("capacity", []).append(
            f"Capacity can be at most {CAPACITY_MAX:,}; leave it blank for unlimited."
        )
    try:
        # Lengths, required fields, the category; the constraints are checked above in words.
        event.full_clean(validate_constraints=False, validate_unique=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise EventInvalid(errors)


def _registration_window_errors(*, event: EventPost) -> dict[str, list[str]]:
    """Registration opens before it closes, closes by the end, cancelling stops by then."""
    if not (event.starts_at and event.ends_at):
        return {}
    opens, closes = event.registration_opens_at, event.registration_closes_at
    deadline = event.cancellation_deadline
    errors: dict[str, list[str]] = {}
    if closes is not None and closes > event.ends_at:
        errors["registration_closes_at"] = ["Registration must close by the time the event ends."]
    if opens is not None and opens >= event.registration_ends_at:
        errors["registration_opens_at"] = [
            "Registration must open before it closes (before the start, when no closing "
            "time is set)."
        ]
    if deadline is not None and deadline > event.registration_ends_at:
        errors["cancellation_deadline"] = [
            "Cancelling must stop no later than registration closes (the start, when no "
            "closing time is set)."
        ]
    return errors


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
    walk_ins_beyond_capacity: bool = False,
    release_no_shows: bool = False,
    no_show_grace_minutes: int = NO_SHOW_GRACE_DEFAULT_MINUTES,
    check_in_radius_m: int | None = None,
    visibility: str = EventPost.Visibility.PUBLIC,
    organization: Organization | None = None,
    cohosts: Iterable[Organization] = (),
    registration_required: bool = True,
    registration_opens_at: datetime | None = None,
    registration_closes_at: datetime | None = None,
    cancellation_deadline: datetime | None = None,
    guests_max: int = 0,
    mode: str = EventPost.Mode.IN_PERSON,
    join_url: str = "",
    access_features: Iterable[str] = (),
    allergens: str = "",
    access_contact: str = "",
) -> EventPost:
    """A new draft event; publishing is a separate step (`event_publish`).

    With an `organization`, the organization hosts it (the organizer must be one of its
    officers with a role that may create events); `cohosts` are listed as co-hosts.
    """
    permissions.event_check_create(user=organizer, organization=organization)
    event = EventPost(
        organizer=organizer,
        organization=organization,
        visibility=visibility,
        title=title,
        description=description,
        category=category,
        starts_at=starts_at,
        ends_at=ends_at,
        location_name=location_name,
        address=address,
        capacity=capacity,
        walk_ins_beyond_capacity=walk_ins_beyond_capacity,
        release_no_shows=release_no_shows,
        no_show_grace_minutes=no_show_grace_minutes,
        check_in_radius_m=check_in_radius_m,
        registration_required=registration_required,
        registration_opens_at=registration_opens_at,
        registration_closes_at=registration_closes_at,
        cancellation_deadline=cancellation_deadline,
        guests_max=guests_max,
        mode=mode,
        join_url=join_url,
        access_features=list(access_features),
        allergens=allergens,
        access_contact=access_contact,
        status=EventPost.Status.DRAFT,
        geocode_status=EventPost.GeocodeStatus.PENDING,
    )
    _event_validate(event=event)
    event.save()
    _cohosts_set(event=event, cohosts=cohosts)
    event_geocode_enqueue(event_id=event.pk)
    _audit(event=event, by=organizer, action=OrgActivity.Action.EVENT_CREATED)
    return event


def _cohosts_set(*, event: EventPost, cohosts: Iterable[Organization]) -> None:
    """Co-hosts: approved organizations other than the host."""
    chosen = [org for org in cohosts if org.pk != event.organization_id]
    if any(not org.is_approved for org in chosen):
        raise EventInvalid({"cohosts": ["Only approved organizations can co-host."]})
    event.cohosts.set(chosen)


def _audit(*, event: EventPost, by: User, action: str, detail: str = "") -> None:
    """Record an officer's action on an organization's event in its activity log."""
    if event.organization_id is not None:
        audit.record(
            organization_id=event.organization_id,
            actor=by,
            action=action,
            event=event,
            detail=detail,
        )


# Times that move with the event when it is duplicated or a series is shifted.
EVENT_TIME_FIELDS = (
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "cancellation_deadline",
)


def event_duplicate(*, event_id: int, by: User, starts_at: datetime) -> EventPost:
    """A new draft like the event, starting at `starts_at`: every time (end, registration
    windows, cancellation deadline) moves by the same amount; the questions are copied.

    Registrations, counters, status and coordinates are not copied (geocoding runs again).
    """
    source = permissions.event_get_authorized(
        event_id=event_id, user=by, action=permissions.Action.EDIT
    )
    if starts_at <= timezone.now():
        raise EventInvalid({"starts_at": ["Choose a start in the future."]})
    shift = starts_at - source.starts_at
    fields = {name: getattr(source, name) for name in EVENT_EDITABLE_FIELDS}
    try:
        for name in EVENT_TIME_FIELDS:
            if fields[name] is not None:
                fields[name] += shift
    except OverflowError as error:
        raise EventInvalid({"starts_at": ["Choose a date before the year 9999."]}) from error
    with transaction.atomic():
        copy = event_create(organizer=by, **fields)
        EventQuestion.objects.bulk_create(
            EventQuestion(
                event=copy,
                label=question.label,
                kind=question.kind,
                choices=question.choices,
                required=question.required,
                position=question.position,
            )
            for question in source.questions.all()
        )
    return copy


def event_update(
    *, event_id: int, by: User, cohosts: Iterable[Organization] | None = None, **changes
) -> EventPost:
    """Change an event's details.

    Moving the event to an organization (`organization`) needs the right to create events
    for it; moving it back to no organization makes it the mover's own event (as organizer).

    Capacity may not go below the seats already confirmed; raising it (or making it
    unlimited) seats waitlisted students at once, first come first served, and tells them.
    A new address or place name resets the coordinates until the geocoding job finds them.
    """
    unknown = set(changes) - set(EVENT_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    with event_locked(event_id=event_id, whole_row=True) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.EDIT)
        if event.status == EventPost.Status.CANCELLED:
            raise EventStateConflict("A cancelled event can no longer be edited.")
        changed = [name for name, value in changes.items() if getattr(event, name) != value]
        before = {name: getattr(event, name) for name in _TIME_AND_PLACE_FIELDS}
        was_hosted_by = event.organization_id
        for name in changed:
            setattr(event, name, changes[name])
        if "organization" in changed:
            changed += _event_host_change(event=event, by=by)
        _event_validate(event=event)
        # Walk-ins let in beyond the capacity do not count against it.
        holding = event.seats_taken - event.seats_beyond_capacity
        if event.capacity is not None and event.capacity < holding:
            raise EventInvalid(
                {
                    "capacity": [
                        f"{holding} students already hold a seat, so the capacity "
                        f"cannot be lower than {holding}."
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
            for seated in waitlist_fill(event=event):
                registration_email_queue(registration=seated, kind=EmailKind.PROMOTED)
        if any(before[name] != getattr(event, name) for name in _TIME_AND_PLACE_FIELDS):
            _event_change_record(event=event, by=by, before=before)
        if cohosts is not None:
            _cohosts_set(event=event, cohosts=cohosts)
        if event.organization_id != was_hosted_by:
            _audit(event=event, by=by, action=OrgActivity.Action.EVENT_MOVED_IN)
        elif changed:
            _audit(
                event=event,
                by=by,
                action=OrgActivity.Action.EVENT_EDITED,
                detail=", ".join(sorted(changed))[:300],
            )
    return event


def _event_host_change(*, event: EventPost, by: User) -> list[str]:
    """Check a move to another host (or to none); returns further fields it changed."""
    if event.organization is not None:
        permissions.event_check_create(user=by, organization=event.organization)
        return []
    # Back to a person: the mover, who must be allowed to organize events of their own.
    permissions.event_check_create(user=by)
    event.organizer = by
    return ["organizer"]


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
    outbox.add(tasks.event_changed_email_send, change.pk, key=f"event-changed:{change.pk}")


def event_publish(*, event_id: int, by: User) -> EventPost:
    """Draft → published. Publishing a published event again changes nothing."""
    with event_locked(event_id=event_id, whole_row=True) as event:
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
        _audit(event=event, by=by, action=OrgActivity.Action.EVENT_PUBLISHED)
    return event


def event_unpublish(*, event_id: int, by: User) -> EventPost:
    """Staff moderation: published → draft, hidden from students until published again."""
    with event_locked(event_id=event_id, whole_row=True) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.UNPUBLISH)
        if event.status == EventPost.Status.CANCELLED:
            raise EventStateConflict("A cancelled event cannot be unpublished.")
        if event.status == EventPost.Status.PUBLISHED:
            event.status = EventPost.Status.DRAFT
            event.save(update_fields=["status", "updated_at"])
    return event


def event_organizer_change(*, event_id: int, by: User, organizer: User) -> EventPost:
    """Staff hand an event to another organizer (one who leaves, or closes their account)."""
    if not permissions.user_can_create_events(organizer):
        raise EventInvalid({"organizer": ["Choose an active organizer (or staff member)."]})
    with event_locked(event_id=event_id, whole_row=True) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.REASSIGN)
        if event.organizer_id != organizer.pk:
            event.organizer = organizer
            event.save(update_fields=["organizer", "updated_at"])
    return event


def event_place(*, event_id: int, by: User, latitude: float, longitude: float) -> EventPost:
    """The organizer puts the event on the map by hand; geocoding leaves it alone from now on.

    A later change of place name or address sends it back to geocoding.
    """
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise EventInvalid({"__all__": ["Latitude or longitude is out of range."]})
    with event_locked(event_id=event_id, whole_row=True) as event:
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
    with event_locked(event_id=event_id, whole_row=True) as event:
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
        _audit(event=event, by=by, action=OrgActivity.Action.EVENT_CANCELLED, detail=reason[:300])
        if was_published and (event.seats_taken or event.waitlist_count):
            outbox.add(
                tasks.event_cancelled_email_send, event.pk, key=f"event-cancelled:{event.pk}"
            )
    return event


def event_geocode_enqueue(*, event_id: int) -> None:
    """Geocode the event: an outbox row of the current transaction, run after it commits.

    Called by the services that create an event or change its location name or address
    (after setting `geocode_status` back to pending).
    """
    outbox.add(tasks.event_geocode_task, event_id)
