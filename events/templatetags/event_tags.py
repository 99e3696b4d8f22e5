from datetime import datetime
from urllib.parse import urlencode

from django import template
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core import clock
from events.models import EventPost
from events.search import format_count, mark_highlights

register = template.Library()


@register.filter
def highlight(text: str | None) -> SafeString:
    """A search headline as HTML: user text escaped, matches in <mark>."""
    return mark_highlights(text or "")


@register.filter
def event_time(value: datetime) -> SafeString:
    """A card's start as `<time>`: "Thu, Nov 26 · 2:30 PM CST" in the site's time zone.

    The same text as the date filter with "D, M j · g:i A T" (and the zone's name in the
    repeated hour of the DST change, where that filter prints none), at about a third of
    the cost: a page of search results shows 20, and the generic filter was 7% of its time.
    """
    local = clock.local(value)
    text = (
        f"{WEEKDAYS_ABBR[local.weekday()]}, {MONTHS_3[local.month].title()} {local.day} · "
        f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'} "
        f"{local.tzname()}"
    )
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), text)


@register.filter
def count_display(count: int, capped: bool = False) -> str:
    """'1,000+' when the search stopped counting, '42' otherwise."""
    return format_count(count, capped=bool(capped))


@register.filter
def maps_url(event: EventPost) -> str:
    """ "Open in Maps": coordinates when known, else the address or place name."""
    if event.latitude is not None and event.longitude is not None:
        query = f"{event.latitude},{event.longitude}"
    else:
        query = ", ".join(part for part in (event.location_name, event.address) if part)
    return "https://www.google.com/maps/search/?" + urlencode({"api": 1, "query": query})


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (pagination, filters)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    return "?" + query.urlencode()
