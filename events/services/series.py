"""Recurring events: a series makes one event per occurrence, edited one or all following.

Every occurrence is an ordinary event (its own registrations, questions, cancellation);
the series only remembers the rule and links them. Occurrences keep the first one's time
of day in campus time, across daylight-saving changes. A series has at most
SERIES_OCCURRENCES_MAX occurrences: a request for more is a field error, and nothing is
saved (one transaction).
"""

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from core import clock
from events import permissions
from events.errors import EventInvalid
from events.models import EventPost, EventQuestion, EventSeries
from users.models import User

from .organizing import EVENT_TIME_FIELDS, event_create, event_publish, event_update
from .questions import question_add

SERIES_OCCURRENCES_MAX = 100
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def series_dates(
    *,
    rule: str,
    first_day: dt.date,
    weekdays: Iterable[int] = (),
    until: dt.date | None = None,
    dates: Iterable[dt.date] = (),
) -> list[dt.date]:
    """The occurrence dates of a rule; EventInvalid when there are none or too many.

    Weekly: every chosen weekday from `first_day` to `until` (inclusive). Dates: the list,
    sorted, each once. Stops counting past the limit, so a rule reaching the year 9999
    costs no more than one at the limit.
    """
    if rule == EventSeries.Rule.WEEKLY:
        chosen = sorted(set(weekdays))
        if not chosen or any(day not in range(7) for day in chosen):
            raise EventInvalid({"weekdays": ["Choose the weekdays it repeats on."]})
        if until is None or until < first_day:
            raise EventInvalid({"repeat_until": ["Give the last date, on or after the first."]})
        found: list[dt.date] = []
        day = first_day
        while day <= until:
            if day.weekday() in chosen:
                found.append(day)
                if len(found) > SERIES_OCCURRENCES_MAX:
                    raise EventInvalid({"repeat_until": [_too_many()]})
            day += dt.timedelta(days=1)
        if not found:
            raise EventInvalid({"repeat_until": ["No chosen weekday falls in these dates."]})
        return found
    if rule == EventSeries.Rule.DATES:
        unique = sorted(set(dates))
        if not unique:
            raise EventInvalid({"repeat_dates": ["Give at least one date."]})
        if len(unique) > SERIES_OCCURRENCES_MAX:
            raise EventInvalid({"repeat_dates": [_too_many()]})
        return unique
    raise EventInvalid({"repeat": ["Choose weekly or a list of dates."]})


def _too_many() -> str:
    return (
        f"A series can have at most {SERIES_OCCURRENCES_MAX} occurrences: choose an earlier "
        "last date, or make two series."
    )


def _at_day(moment: dt.datetime, day: dt.date, reference: dt.datetime) -> dt.datetime:
    """`moment` moved by whole days, from `reference`'s day to `day`, at the same campus
    wall-clock time (so 6 PM stays 6 PM across a daylight-saving change)."""
    local = clock.local(moment)
    offset = day - clock.local(reference).date()
    wall = dt.datetime.combine(local.date() + offset, local.time())
    return timezone.make_aware(wall, clock.campus_zone())


def _shifted(moment: dt.datetime, shift: dt.timedelta) -> dt.datetime:
    # Wall-clock arithmetic in campus time, then back to an instant.
    return timezone.make_aware(
        clock.local(moment).replace(tzinfo=None) + shift, clock.campus_zone()
    )


@transaction.atomic
def series_create(
    *,
    organizer: User,
    rule: str,
    weekdays: Sequence[int] = (),
    until: dt.date | None = None,
    dates: Sequence[dt.date] = (),
    **fields,
) -> list[EventPost]:
    """Create every occurrence as a draft, like `event_create(**fields)` on each date.

    `fields["starts_at"]` gives the first day (weekly) and the time of day; every other
    time (end, registration window, cancellation deadline) keeps its distance from the
    start in campus wall-clock time. Returns the occurrences, first first.
    """
    permissions.event_check_create(user=organizer, organization=fields.get("organization"))
    starts_at = fields["starts_at"]
    try:
        days = series_dates(
            rule=rule,
            first_day=clock.local(starts_at).date(),
            weekdays=weekdays,
            until=until,
            dates=dates,
        )
        moves = [
            {
                name: _at_day(fields[name], day, starts_at)
                for name in EVENT_TIME_FIELDS
                if fields.get(name) is not None
            }
            for day in days
        ]
    except OverflowError as error:
        raise EventInvalid({"repeat": ["These dates are out of range."]}) from error
    series = EventSeries.objects.create(
        organizer=organizer,
        rule=rule,
        weekdays=sorted(set(weekdays)) if rule == EventSeries.Rule.WEEKLY else [],
        until=until if rule == EventSeries.Rule.WEEKLY else None,
        dates=days if rule == EventSeries.Rule.DATES else [],
    )
    occurrences = []
    for moved in moves:
        event = event_create(organizer=organizer, **{**fields, **moved})
        event.series = series
        event.save(update_fields=["series"])
        occurrences.append(event)
    return occurrences


def series_following(*, event: EventPost) -> list[int]:
    """Ids of this occurrence and the later ones of its series that are not cancelled."""
    if event.series_id is None:
        return [event.pk]
    return list(
        EventPost.objects.filter(series_id=event.series_id, starts_at__gte=event.starts_at)
        .exclude(status=EventPost.Status.CANCELLED)
        .order_by("starts_at", "pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def series_update_following(*, event_id: int, by: User, **changes) -> EventPost:
    """Edit this occurrence and every following one; all of them or none.

    Times move by as much as this occurrence's do; other fields take the new values.
    """
    event = permissions.event_get_authorized(
        event_id=event_id, user=by, action=permissions.Action.EDIT
    )
    try:
        return _update_following(event=event, by=by, changes=changes)
    except OverflowError as error:
        raise EventInvalid({"starts_at": ["These times are out of range."]}) from error


def _update_following(*, event: EventPost, by: User, changes: dict) -> EventPost:
    shifts = {
        name: changes[name] - getattr(event, name)
        for name in EVENT_TIME_FIELDS
        if name in changes and changes[name] is not None and getattr(event, name) is not None
    }
    new_start = changes.get("starts_at") or event.starts_at
    updated = event
    for occurrence_id in series_following(event=event):
        own = changes
        if occurrence_id != event.pk:
            occurrence = EventPost.objects.get(pk=occurrence_id)
            own = {**changes}
            for name in EVENT_TIME_FIELDS:
                if name in shifts and getattr(occurrence, name) is not None:
                    own[name] = _shifted(getattr(occurrence, name), shifts[name])
                elif name in changes and changes[name] is not None:
                    # Newly set here: the same distance from the occurrence's start.
                    start = own.get("starts_at") or occurrence.starts_at
                    own[name] = _shifted(start, changes[name] - new_start)
        result = event_update(event_id=occurrence_id, by=by, **own)
        if occurrence_id == event.pk:
            updated = result
    return updated


@transaction.atomic
def series_publish_following(*, event_id: int, by: User) -> EventPost:
    """Publish this occurrence and the following drafts of its series."""
    event = permissions.event_get_authorized(
        event_id=event_id, user=by, action=permissions.Action.PUBLISH
    )
    first = event
    for occurrence_id in series_following(event=event):
        published = event_publish(event_id=occurrence_id, by=by)
        if occurrence_id == event.pk:
            first = published
    return first


@transaction.atomic
def series_question_add(*, event_id: int, by: User, **question) -> EventQuestion:
    """Ask the question on this occurrence and every following one; returns this one's."""
    event = permissions.event_get_authorized(
        event_id=event_id, user=by, action=permissions.Action.EDIT
    )
    asked = [
        question_add(event_id=occurrence_id, by=by, **question)
        for occurrence_id in series_following(event=event)
    ]
    return asked[0]
