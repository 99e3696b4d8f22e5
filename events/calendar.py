"""iCalendar (.ics) output: single-event downloads and each student's subscribable feed."""

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urljoin

from django.conf import settings
from icalendar import Calendar, Event

from .models import EventPost

PRODID = "-//E-Ren//eren.washu.edu//EN"
UID_DOMAIN = "eren.washu.edu"


def _ical_event(event: EventPost) -> Event:
    url = urljoin(settings.SITE_URL, event.get_absolute_url())
    location = ", ".join(part for part in (event.location_name, event.address) if part)
    description = f"{event.description}\n\n{url}".strip()
    ical = Event.new(
        uid=f"event-{event.pk}@{UID_DOMAIN}",
        summary=event.title,
        start=event.starts_at,
        end=event.ends_at,
        location=location,
        description=description,
        url=url,
        stamp=event.updated_at,
        last_modified=event.updated_at,
        status="CANCELLED" if event.status == EventPost.Status.CANCELLED else "CONFIRMED",  # type: ignore[arg-type]
        categories=[event.category.name],
    )
    if event.latitude is not None and event.longitude is not None:
        ical.add("geo", (event.latitude, event.longitude))
    return ical


def calendar_render(events: Iterable[EventPost], *, name: str) -> bytes:
    """A VCALENDAR with one VEVENT per event; calendar apps poll feeds hourly."""
    calendar = Calendar.new(
        prodid=PRODID,
        name=name,
        method="PUBLISH",
        refresh_interval=timedelta(hours=1),
        subcomponents=[_ical_event(event) for event in events],
    )
    return calendar.to_ical()
