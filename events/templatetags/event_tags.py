import re
from datetime import datetime
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.template.defaulttags import CsrfTokenNode
from django.templatetags.static import static
from django.urls import reverse
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core import clock
from events import selectors
from events.access import features_labelled
from events.models import EventPost, EventRegistration, pk_url
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
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), _day_and_time(local))


def _day_and_time(local: datetime, *, year: bool = False) -> str:
    """ "Thu, Nov 26 · 2:30 PM CST" (the date filter's "D, M j · g:i A T"), with ", 2026"
    after the day when `year`."""
    return (
        f"{WEEKDAYS_ABBR[local.weekday()]}, {MONTHS_3[local.month].title()} {local.day}"
        f"{f', {local.year}' if year else ''} · "
        f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'} "
        f"{local.tzname()}"
    )


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


def status_html(status: object) -> SafeString:
    """The card's "you're registered" line for the viewer's registration status."""
    if status not in STATUS_TEXT:
        return SafeString("")
    css, text = STATUS_TEXT[status]  # type: ignore[index]
    return format_html('<p class="status {}">{}</p>', css, text)


# The viewer's own line on cards that many readers share (the signed-in home page's cached
# list, issue 25): the cached HTML holds a slot per card, filled for each reader with one
# query. User text cannot forge a slot: it is escaped ("<" becomes "&lt;").
DEFERRED = object()
DEFER_STATUSES = "_defer_my_statuses"
STATUS_SLOT = "<!--my-status:{}-->"
STATUS_SLOT_RE = re.compile(r"<!--my-status:(\d+)-->")


class FillMyStatusesNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context) -> SafeString:
        with context.push({DEFER_STATUSES: True}):
            html = self.nodelist.render(context)
        ids = sorted({int(pk) for pk in STATUS_SLOT_RE.findall(html)})
        request = context.get("request")
        user = getattr(request, "user", None)
        statuses = selectors.registration_statuses(user=user, event_ids=ids) if user and ids else {}
        filled = STATUS_SLOT_RE.sub(lambda match: status_html(statuses.get(int(match[1]))), html)
        return SafeString(filled)  # nosec B703 - escaped template output, format_html pieces


@register.tag("fill_my_statuses")
def fill_my_statuses(parser, token) -> FillMyStatusesNode:
    """`{% fill_my_statuses %}…{% end_fill_my_statuses %}`: cards inside (cached or not) get
    the viewer's registration status, read in one query for all of them."""
    nodelist = parser.parse(("end_fill_my_statuses",))
    parser.delete_first_token()
    return FillMyStatusesNode(nodelist)


# Categories with a picture of their own in static/img/categories/<slug>.svg.
CATEGORY_ART = frozenset(
    path.stem for path in (settings.BASE_DIR / "static/img/categories").glob("*.svg")
)
# Cover images keep their aspect ratio when resized; the card shows them at 2:1 (cropped
# by CSS), and the width/height attributes give the browser that box before they load.
CARD_IMAGE_SIZES = "(min-width: 64rem) 22rem, (min-width: 40rem) 45vw, 100vw"
STATUS_TEXT: dict[str, tuple[str, str]] = {
    EventRegistration.Status.CONFIRMED: ("ok", "You're registered"),
    EventRegistration.Status.WAITLISTED: ("wait", "You're on the waitlist"),
}


def card_image(event: EventPost) -> SafeString:
    """The card's picture: the cover in two widths, else the category's, else the default.

    A cover has the organizer's alt text; a category picture only decorates (alt="").
    """
    if event.image_small:
        return format_html(
            '<img class="cover cover-small" src="{}" srcset="{} 400w, {} 800w" sizes="{}"'
            ' width="400" height="200" alt="{}" loading="lazy">',
            event.image_small.url,
            event.image_small.url,
            event.image_medium.url,
            CARD_IMAGE_SIZES,
            event.image_alt,
        )
    return format_html(
        '<img class="cover cover-small" src="{}" width="400" height="200" alt="" loading="lazy">',
        cover_fallback_url(event),
    )


@register.simple_tag
def cover_fallback_url(event: EventPost) -> str:
    """The picture of an event without a cover: its category's (admin, else ours), else the
    default."""
    if event.category.image:
        return event.category.image.url
    if event.category.slug in CATEGORY_ART:
        return static(f"img/categories/{event.category.slug}.svg")
    return static("img/event-default.svg")


def date_badge(value: datetime) -> SafeString:
    local = clock.local(value)
    return format_html(
        '<span class="date-badge" aria-hidden="true"><span class="month">{}</span>'
        '<span class="day">{}</span></span>',
        MONTHS_3[local.month].title(),
        local.day,
    )


def event_card_html(event: EventPost, *, status: object = None) -> SafeString:
    """One event card, the same everywhere (home, search, organizations, map list).

    Built in Python, not a template: a page of 20 cards through the template engine was
    most of an uncached search page's time (docs/BENCHMARKS.md). `status` is the viewer's
    own registration status for the event, if any, or DEFERRED for a card in a fragment that
    readers share: a slot `{% fill_my_statuses %}` fills per reader.
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
    mode = ""
    if event.mode != EventPost.Mode.IN_PERSON:
        mode = format_html(
            ' · <span class="badge">{}</span>',
            "Online" if event.mode == EventPost.Mode.ONLINE else "Hybrid",
        )
    seats = seats_text(event) if event.registration_required else "No registration needed"
    # An integer in a fixed comment.
    slot = SafeString(STATUS_SLOT.format(int(event.pk)))  # nosec B703
    mine = slot if status is DEFERRED else status_html(status)
    return format_html(
        '<li class="card"><div class="card-media">{}{}</div><div class="card-body">'
        '<p class="card-category">{}{}</p><h2><a href="{}">{}</a></h2>'
        "<p>{}</p><p>{}{}</p>{}{}"
        '<p class="seats">{}</p>{}</div></li>',
        card_image(event),
        date_badge(event.starts_at),
        event.category.name,
        distance,
        event.get_absolute_url(),
        title,
        event_time(event.starts_at),
        event.location_name,
        mode,
        snippet,
        access_badges_html(event),
        seats,
        mine,
    )


@register.simple_tag(takes_context=True)
def event_card(context, event: EventPost) -> SafeString:
    """`{% event_card event %}`: the card, with the viewer's status from `my_statuses`, or
    a slot for it inside `{% fill_my_statuses %}`."""
    if context.get(DEFER_STATUSES):
        return event_card_html(event, status=DEFERRED)
    statuses = context.get("my_statuses") or {}
    return event_card_html(event, status=statuses.get(event.pk))


# The search page's name for the same card.
search_card = register.simple_tag(event_card, takes_context=True, name="search_card")


def my_event_card_html(
    registration: EventRegistration, *, csrf_input: str, return_url: str
) -> SafeString:
    """A card of My events: the event, the student's registration, its ticket and its
    cancel button (a form with the page's CSRF token: `csrf_input`, the safe HTML that
    `{% csrf_token %}` renders).

    Built in Python like event_card_html: through the template engine, a student's
    registrations (55 on average in the demo data) were most of the page's time, a card
    reversing three URLs and rendering a CSRF token of its own (docs/BENCHMARKS.md).
    """
    event = registration.event
    waitlisted = registration.status == EventRegistration.Status.WAITLISTED
    if event.status == EventPost.Status.CANCELLED:
        state = "Cancelled by the organizer"
    elif registration.status == EventRegistration.Status.CONFIRMED:
        state = "Registered"
    else:
        state = f"Waitlist: number {registration.waitlist_position}"  # type: ignore[attr-defined]
    ticket = (
        format_html(
            '<p><a href="{}">Ticket (QR code)</a></p>', pk_url("events:ticket", registration.pk)
        )
        if registration.ticket_available
        else ""
    )
    cancel = (
        format_html(
            '<form method="post" action="{}">{}<input type="hidden" name="next" value="{}">'
            '<button type="submit" class="button secondary">{}</button></form>',
            pk_url("events:cancel", event.pk),
            csrf_input,
            return_url,
            "Leave the waitlist" if waitlisted else "Cancel",
        )
        if registration.may_cancel
        else ""
    )
    return format_html(
        '<li class="card"><h3><a href="{}">{}</a></h3><p>{} · {}</p>'
        '<p class="status {}">{}</p>{}{}</li>',
        event.get_absolute_url(),
        event.title,
        event_time(event.starts_at),
        event.location_name,
        "ok" if registration.status == EventRegistration.Status.CONFIRMED else "wait",
        state,
        ticket,
        cancel,
    )


@register.simple_tag(takes_context=True)
def my_event_cards(context, registrations: list[EventRegistration]) -> SafeString:
    """`{% my_event_cards upcoming %}`: every card of My events, the CSRF field rendered once."""
    # {% csrf_token %}'s own rendering: escaped, or "" when the page has no token.
    csrf_input = CsrfTokenNode().render(context)
    return_url = reverse("events:mine")
    return format_html_join(
        "\n      ",
        "{}",
        (
            (my_event_card_html(registration, csrf_input=csrf_input, return_url=return_url),)
            for registration in registrations
        ),
    )


def organizer_event_card_html(event: EventPost) -> SafeString:
    """A card of the organizer dashboard: the event, its state and its counts (the queryset
    of selectors.organizer_event_list, with `checked_in_count`). In Python, like the other
    cards: a page of them through the template engine was most of the dashboard's time."""
    local = clock.local(event.starts_at)
    capacity = f" of {event.capacity}" if event.capacity else ""
    return format_html(
        '<li class="card"><p class="card-category">{} · {}</p>'
        '<h3><a href="{}">{}</a></h3>'
        '<p><time datetime="{}">{}</time> · {}</p>'
        '<p class="counts">{} confirmed{} · {} waitlisted · {} checked in</p></li>',
        event.category.name,
        event.get_status_display(),
        pk_url("events:manage", event.pk),
        event.title,
        local.isoformat(),
        _day_and_time(local, year=True),
        event.location_name,
        event.seats_taken,
        capacity,
        event.waitlist_count,
        event.checked_in_count,  # type: ignore[attr-defined]
    )


@register.simple_tag
def organizer_event_cards(events) -> SafeString:
    """`{% organizer_event_cards events %}`: the dashboard's page of event cards."""
    return format_html_join(
        "\n        ", "{}", ((organizer_event_card_html(event),) for event in events)
    )


@register.simple_tag
def place_options(places: list[tuple[str, str]], selected: str) -> SafeString:
    """The <option>s of the "near" select box (39 campus places), the chosen one selected."""
    return format_html_join(
        "\n          ",
        '<option value="{}"{}>{}</option>',
        ((slug, " selected" if slug == selected else "", name) for slug, name in places),
    )
