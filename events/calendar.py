"""iCalendar (.ics) output: single-event downloads and each student's subscribable feed."""

import re
from collections.abc import Collection, Iterable, Mapping
from datetime import timedelta
from urllib.parse import urljoin

from django.conf import settings
from icalendar import Calendar, Event

from .models import EventPost

PRODID = "-//E-Ren//eren.washu.edu//EN"
UID_DOMAIN = "eren.washu.edu"
# Line breaks and other control characters. icalendar escapes them in event properties but
# writes the calendar's NAME as given, where a CR would start a new line (and LF fail).
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def _status(event: EventPost, *, tentative: bool) -> str:
    if event.status == EventPost.Status.CANCELLED:
        return "CANCELLED"
    return "TENTATIVE" if tentative else "CONFIRMED"


def _ical_event(
    event: EventPost, *, tentative: bool = False, cancel: bool = False, join_url: str = ""
) -> Event:
    url = urljoin(settings.SITE_URL, event.get_absolute_url())
    location = ", ".join(part for part in (event.location_name, event.address) if part)
    description = f"{event.description}\n\n{url}".strip()
    if join_url:
        description += f"\n\nJoin online: {join_url}"
    ical = Event.new(
        uid=f"event-{event.pk}@{UID_DOMAIN}",
        summary=_one_line(event.title),
        start=event.starts_at,
        end=event.ends_at,
        location=location,
        description=description,
        url=url,
        stamp=event.updated_at,
        last_modified=event.updated_at,
        # Grows with every change, so a calendar replaces its copy; a CANCEL, the last word
        # on an event, is one higher than any copy sent in the same second.
        sequence=int(event.updated_at.timestamp()) + cancel,
        status=_status(event, tentative=tentative),  # type: ignore[arg-type]
        categories=[event.category.name],
    )
    if event.latitude is not None and event.longitude is not None:
        ical.add("geo", (event.latitude, event.longitude))
    return ical


def calendar_render(
    events: Iterable[EventPost],
    *,
    name: str,
    method: str = "PUBLISH",
    tentative: Collection[int] = (),
    join_urls: Mapping[int, str] | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT per event; calendar apps poll feeds hourly.

    `tentative`: ids of the events the student only waits for (TENTATIVE, not CONFIRMED).
    `method="CANCEL"` (with the event cancelled) tells a calendar to remove its copy: same
    UID, a higher SEQUENCE, STATUS:CANCELLED (RFC 5546). `join_urls`: the join links the
    reader may see (confirmed registrants only: `selectors.join_url_for`), by event id.
    """
    join_urls = join_urls or {}
    calendar = Calendar.new(
        prodid=PRODID,
        name=_one_line(name),
        method=method,
        refresh_interval=timedelta(hours=1),
        subcomponents=[
            _ical_event(
                event,
                tentative=event.pk in tentative,
                cancel=method == "CANCEL",
                join_url=join_urls.get(event.pk, ""),
            )
            for event in events
        ],
    )
    return calendar.to_ical()
