from urllib.parse import urlencode

from django import template
from django.utils.safestring import SafeString

from events.models import EventPost
from events.search import format_count, mark_highlights

register = template.Library()


@register.filter
def highlight(text: str | None) -> SafeString:
    """A search headline as HTML: user text escaped, matches in <mark>."""
    return mark_highlights(text or "")


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
