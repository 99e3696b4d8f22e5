from datetime import datetime
from urllib.parse import urlencode

from django import template
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core import clock
from events.access import features_labelled
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


def seats_text(event: EventPost) -> str:
    """The words of events/_seats.html, for cards rendered in Python."""
    if event.status == EventPost.Status.CANCELLED:
        return "Cancelled"
    if event.capacity is None:
        return "Open to all"
    if event.is_full:
        return "Full — waitlist"
    seats = event.seats_left
    return f"{seats} spot{'' if seats == 1 else 's'} left"


def access_badges_html(event: EventPost) -> SafeString:
    """The event's accessibility features as labelled badges (the symbol is decorative)."""
    features = features_labelled(event.access_features or ())
    if not features:
        return SafeString("")
    items = format_html_join(
        "",
        '<li class="access-badge" data-access="{}"><span aria-hidden="true">{}</span> {}</li>',
        features,
    )
    return format_html('<ul class="access-badges" aria-label="Accessibility">{}</ul>', items)


@register.simple_tag
def access_badges(event: EventPost) -> SafeString:
    return access_badges_html(event)


@register.simple_tag
def search_card(event: EventPost) -> SafeString:
    """One search result card.

    The same HTML the template loop gave, built in Python: a page of 20 cards through the
    template engine was most of an uncached search page's time (docs/BENCHMARKS.md).
    """
    distance_km = getattr(event, "distance_km", None)
    distance = "" if distance_km is None else f" · {distance_km:.1f} km away"
    headline_title = getattr(event, "headline_title", None)
    title = mark_highlights(headline_title) if headline_title else event.title
    headline_description = getattr(event, "headline_description", None)
    snippet = (
        format_html('<p class="snippet">{}</p>', mark_highlights(headline_description))
        if headline_description
        else ""
    )
    return format_html(
        '<li class="card">\n        <p class="card-category">{}{}</p>\n'
        '        <h2><a href="{}">{}</a></h2>\n        <p>{} · {}</p>\n'
        '        {}\n        {}<p class="seats">{}</p>\n      </li>',
        event.category.name,
        distance,
        event.get_absolute_url(),
        title,
        event_time(event.starts_at),
        event.location_name,
        snippet,
        access_badges_html(event),
        seats_text(event),
    )


@register.simple_tag
def place_options(places: list[tuple[str, str]], selected: str) -> SafeString:
    """The <option>s of the "near" select box (39 campus places), the chosen one selected."""
    return format_html_join(
        "\n          ",
        '<option value="{}"{}>{}</option>',
        ((slug, " selected" if slug == selected else "", name) for slug, name in places),
    )
