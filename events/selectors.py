"""Reads: every query the event pages run lives here."""

from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from core import clock

from . import permissions
from .models import (
    CHECK_IN_CLOSES_AFTER,
    CHECK_IN_OPENS_BEFORE,
    EventCategory,
    EventPost,
    EventQuestion,
    EventRegistration,
    RegistrationAnswer,
)
from .places import CAMPUS_PLACES


def event_get_visible(*, event_id: int) -> EventPost:
    """A published or cancelled event; drafts are private to their organizer."""
    return EventPost.objects.select_related("category", "organizer").get(
        pk=event_id, status__in=[EventPost.Status.PUBLISHED, EventPost.Status.CANCELLED]
    )


def registration_get_for_user(*, event_id: int, user) -> EventRegistration | None:
    """The student's registration for the event in any status, or None (also when logged out)."""
    if not user.is_authenticated:
        return None
    return EventRegistration.objects.filter(event_id=event_id, user=user).first()


def registration_statuses(*, user, event_ids: list[int]) -> dict[int, str]:
    """The viewer's confirmed or waitlisted registrations among these events, by event id:
    the "you're registered" line on cards. One query; none when logged out."""
    if not user.is_authenticated or not event_ids:
        return {}
    return dict(
        EventRegistration.objects.filter(user=user, event_id__in=event_ids)
        .exclude(status=EventRegistration.Status.CANCELLED)
        .values_list("event_id", "status")
    )


def registration_get_active(*, event_id: int, user) -> EventRegistration | None:
    """The student's registration for the event unless cancelled, or None."""
    registration = registration_get_for_user(event_id=event_id, user=user)
    if registration is None or registration.status == EventRegistration.Status.CANCELLED:
        return None
    return registration


def registration_event_id(*, registration_id: int) -> int | None:
    return (
        EventRegistration.objects.filter(pk=registration_id)
        .values_list("event_id", flat=True)
        .first()
    )


def registrations_upcoming_and_past(
    *, user
) -> tuple[list[EventRegistration], list[EventRegistration]]:
    """My events: the student's active registrations, those not ended yet and the rest."""
    registrations = list(registration_list_for_user(user=user))
    now = timezone.now()
    return (
        [r for r in registrations if r.event.ends_at > now],
        [r for r in registrations if r.event.ends_at <= now],
    )


def _waitlisted_ahead(*, event_id, registered_at, pk) -> Q:
    """Registrations ahead in the event's waitlist queue: FIFO by (registered_at, pk)."""
    return Q(event_id=event_id, status=EventRegistration.Status.WAITLISTED) & (
        Q(registered_at__lt=registered_at) | Q(registered_at=registered_at, pk__lt=pk)
    )


def registration_waitlist_position(*, registration: EventRegistration) -> int | None:
    """1-based place in the event's waitlist, or None when the registration is not waiting."""
    if registration.status != EventRegistration.Status.WAITLISTED:
        return None
    ahead = EventRegistration.objects.filter(
        _waitlisted_ahead(
            event_id=registration.event_id,
            registered_at=registration.registered_at,
            pk=registration.pk,
        )
    ).count()
    return ahead + 1


def registration_list_for_user(*, user) -> QuerySet[EventRegistration]:
    """The student's active registrations with their events, each with `waitlist_position`.

    The position is one subquery per row of the same query, so a page of registrations is
    one query however many are waitlisted.
    """
    ahead = (
        EventRegistration.objects.filter(
            _waitlisted_ahead(
                event_id=OuterRef("event_id"),
                registered_at=OuterRef("registered_at"),
                pk=OuterRef("pk"),
            )
        )
        .order_by()
        .values("event_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        EventRegistration.objects.filter(user=user)
        .exclude(status=EventRegistration.Status.CANCELLED)
        .select_related("event", "event__category")
        .defer("event__search_vector")  # the search's own column, the biggest of the row
        .annotate(
            waitlist_position=Case(
                When(
                    status=EventRegistration.Status.WAITLISTED,
                    then=Coalesce(Subquery(ahead), 0) + 1,
                ),
                default=None,
                output_field=IntegerField(),
            )
        )
        .order_by("event__starts_at", "event_id")
    )


BROWSE_WINDOWS = ("today", "week", "weekend")


def browse_window(*, when: str, now: datetime) -> tuple[datetime, datetime]:
    """The [start, end) of a quick filter in Central time: today, this week, this weekend."""
    local_now = clock.local(now)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if when == "today":
        return now, midnight + timedelta(days=1)
    if when == "week":
        # Through Sunday night: "this week" on a Sunday is just the rest of Sunday.
        return now, midnight + timedelta(days=7 - local_now.weekday())
    if when == "weekend":
        # Friday 17:00 to Sunday night; during the weekend, what is left of it.
        friday = midnight + timedelta(days=4 - local_now.weekday())
        start = max(now, friday.replace(hour=17))
        return start, friday + timedelta(days=3)
    raise ValueError(f"Unknown window {when!r}")


def event_list_browse(
    *,
    when: str | None = None,
    category_slug: str | None = None,
    visibilities: tuple[str, ...] = (EventPost.Visibility.PUBLIC,),
):
    """Upcoming published events for the home page, optionally narrowed by a quick filter;
    only the visibilities the viewer may see listed (events.permissions)."""
    now = timezone.now()
    events = (
        EventPost.objects.upcoming(now=now)
        .filter(visibility__in=visibilities)
        .select_related("category")
        .defer("search_vector")  # the search's own column, the biggest of the row
    )
    if when:
        window_start, window_end = browse_window(when=when, now=now)
        # Overlapping the window: an event that is on now counts as today.
        events = events.filter(starts_at__lt=window_end, ends_at__gt=window_start)
    if category_slug:
        events = events.filter(category__slug=category_slug)
    return events


def home_list_cache_seconds() -> int:
    """How long readers share the home page's list (filters, category chips, a page of cards).

    It is the same for every reader allowed the same visibilities, so signed-in students
    share one rendered copy, keyed by what they may see and the query string
    (events/event_list.html). A seat count on it is up to this old (30 s by default); the
    event's own page always shows the live count.
    """
    return settings.SHARED_FRAGMENT_CACHE_SECONDS


def home_list_cache_key(*, visibilities: tuple[str, ...], query: str) -> str:
    """The vary-on part of the shared home list fragment (the cache tag hashes it)."""
    return f"{','.join(visibilities)}?{query}"


# The home page's category chips show how many events are coming up in each. Counting them
# scans every upcoming event (7 ms at 5,000 events, more at scale), so the counts are shared
# through the cache for a minute, like the anonymous page they appear on (5 minutes).
CATEGORY_COUNTS_CACHE_KEY = "events:category-upcoming-counts"
CATEGORY_COUNTS_CACHE_SECONDS = 60


def category_list() -> list[EventCategory]:
    """Every category by name, as model instances (the home page adds counts to them)."""
    return list(EventCategory.objects.order_by("name"))


class CategoryChoice(NamedTuple):
    slug: str
    name: str


# The search page's category filter and every category-filtered search's validation read
# the category list, which staff change a few times a term: it is kept in the cache (plain
# tuples, not pickled models) and forgotten when a category is saved or deleted, at once and
# again at commit. The expiry bounds a reader that read the old list just before the commit.
CATEGORY_CHOICES_CACHE_KEY = "events:category-choices:v1"
CATEGORY_CHOICES_CACHE_SECONDS = 10 * 60


def category_choices() -> list[CategoryChoice]:
    """Every category as (slug, name), by name; from the cache while no category changed."""
    cached = cache.get(CATEGORY_CHOICES_CACHE_KEY)
    if cached is None:
        cached = list(EventCategory.objects.order_by("name").values_list("slug", "name"))
        cache.set(CATEGORY_CHOICES_CACHE_KEY, cached, CATEGORY_CHOICES_CACHE_SECONDS)
    return [CategoryChoice(*choice) for choice in cached]


def category_choices_forget() -> None:
    """The cached category list is stale (a category was saved or deleted)."""
    cache.delete(CATEGORY_CHOICES_CACHE_KEY)


@receiver(post_save, sender=EventCategory)
@receiver(post_delete, sender=EventCategory)
def _category_changed(**kwargs) -> None:
    category_choices_forget()
    transaction.on_commit(category_choices_forget)


def category_upcoming_counts() -> dict[int, int]:
    """Upcoming published events per category id, up to a minute old."""
    counts = cache.get(CATEGORY_COUNTS_CACHE_KEY)
    if counts is None:
        counts = dict(
            EventPost.objects.filter(
                status=EventPost.Status.PUBLISHED,
                ends_at__gt=timezone.now(),
                visibility=EventPost.Visibility.PUBLIC,
            )
            .values_list("category_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        cache.set(CATEGORY_COUNTS_CACHE_KEY, counts, CATEGORY_COUNTS_CACHE_SECONDS)
    return counts


def category_list_with_upcoming_counts() -> list[EventCategory]:
    """Every category by name, each with `upcoming_count` (up to a minute old)."""
    counts = category_upcoming_counts()
    categories = category_list()
    for category in categories:
        category.upcoming_count = counts.get(category.pk, 0)  # type: ignore[attr-defined]
    return categories


def calendar_feed_events(*, user) -> QuerySet[EventPost]:
    """The student's confirmed and waitlisted events, from a month ago on, for the feed.

    Each carries `registration_status`, the student's own (the feed shows waiting as
    tentative)."""
    since = timezone.now() - timedelta(days=30)
    return (
        EventPost.objects.filter(
            registrations__user=user,
            registrations__status__in=["confirmed", "waitlisted"],
            ends_at__gt=since,
        )
        .exclude(status=EventPost.Status.DRAFT)
        .annotate(registration_status=F("registrations__status"))
        .select_related("category")
        .order_by("starts_at")
    )


def registered_events_between(*, user, starts_at: datetime, ends_at: datetime) -> list[EventPost]:
    """The student's confirmed and waitlisted events starting in [starts_at, ends_at), each
    with `registration_status`: My events as a calendar."""
    return list(
        EventPost.objects.filter(
            registrations__user=user,
            registrations__status__in=["confirmed", "waitlisted"],
            starts_at__gte=starts_at,
            starts_at__lt=ends_at,
        )
        .exclude(status=EventPost.Status.DRAFT)
        .annotate(registration_status=F("registrations__status"))
        .order_by("starts_at", "pk")
    )


def place_choices() -> list[tuple[str, str]]:
    """Campus places a search can be "near", as (slug, name) for a select box."""
    return sorted(((key, place.name) for key, place in CAMPUS_PLACES.items()), key=lambda c: c[1])


def _organizer_events_q(user) -> Q:
    return Q(organizer=user, organization__isnull=True) | Q(organization__officers__user=user)


def organizer_event_list(*, user) -> QuerySet[EventPost]:
    """The organizer's own events, and those of the organizations they are an officer of,
    with a checked-in count, newest start first."""
    return (
        EventPost.objects.filter(_organizer_events_q(user))
        .select_related("category")
        # Grouped by every selected column: the search's tsvector only made that slower.
        .defer("search_vector")
        .annotate(
            checked_in_count=Count(
                "registrations", filter=Q(registrations__checked_in_at__isnull=False)
            )
        )
        .order_by("-starts_at", "-pk")
    )


DASHBOARD_TABS = {
    # tab -> (label, filter, order)
    "upcoming": ("Upcoming", Q(status=EventPost.Status.PUBLISHED), ("starts_at", "pk")),
    "drafts": ("Drafts", Q(status=EventPost.Status.DRAFT), ("-starts_at", "-pk")),
    "past": ("Past", Q(status=EventPost.Status.PUBLISHED), ("-starts_at", "-pk")),
    "cancelled": ("Cancelled", Q(status=EventPost.Status.CANCELLED), ("-starts_at", "-pk")),
}
DASHBOARD_PAGE_SIZE = 20
REGISTRATIONS_CHART_DAYS = 30


def _dashboard_tab_q(tab: str, now: datetime) -> Q:
    q = DASHBOARD_TABS[tab][1]
    if tab == "upcoming":
        return q & Q(ends_at__gt=now)
    if tab == "past":
        return q & Q(ends_at__lte=now)
    return q


def organizer_dashboard(*, user, tab: str, now: datetime | None = None) -> dict:
    """The organizer dashboard: how many events each tab holds (one aggregate query) and the
    tab's events, with their registration counts, to be paged (one query per page)."""
    now = now or timezone.now()
    events = organizer_event_list(user=user)
    counts = EventPost.objects.filter(_organizer_events_q(user)).aggregate(
        **{name: Count("pk", filter=_dashboard_tab_q(name, now)) for name in DASHBOARD_TABS}
    )
    return {
        "tabs": [(name, label, counts[name]) for name, (label, _, _) in DASHBOARD_TABS.items()],
        "events": events.filter(_dashboard_tab_q(tab, now)).order_by(*DASHBOARD_TABS[tab][2]),
        "count": counts[tab],
    }


def organizer_registrations_by_day(
    *, user, days: int = REGISTRATIONS_CHART_DAYS, now: datetime | None = None
) -> list[tuple[date, int]]:
    """Registrations for the organizer's events on each of the last `days` campus days,
    cancelled ones included (they registered that day): the dashboard's chart."""
    today = clock.local_date(now)
    first = today - timedelta(days=days - 1)
    own = EventPost.objects.filter(_organizer_events_q(user)).values("pk")
    per_day = dict(
        EventRegistration.objects.filter(event__in=own, registered_at__gte=clock.midnight(first))
        .annotate(day=TruncDate("registered_at", tzinfo=clock.campus_zone()))
        .values_list("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    return [
        (first + timedelta(days=offset), per_day.get(first + timedelta(days=offset), 0))
        for offset in range(days)
    ]


def roster_for_event(*, event: EventPost) -> dict[str, list[EventRegistration]]:
    """The event's registrations by group, in queue order: the roster page and its counts."""
    groups: dict[str, list[EventRegistration]] = {
        "confirmed": [],
        "waitlisted": [],
        "cancelled": [],
        "checked_in": [],
    }
    registrations = (
        EventRegistration.objects.filter(event=event)
        .select_related("user")
        .prefetch_related(
            Prefetch("answers", queryset=RegistrationAnswer.objects.select_related("question"))
        )
        .order_by("registered_at", "pk")
    )
    for registration in registrations:
        groups[registration.status].append(registration)
        if registration.checked_in_at is not None:
            groups["checked_in"].append(registration)
    return groups


def join_url_for_registration(registration: EventRegistration) -> str:
    """The event's join link when this registration may see it (a confirmed seat), else ""."""
    event = registration.event
    if (
        event.mode == EventPost.Mode.IN_PERSON
        or registration.status != EventRegistration.Status.CONFIRMED
    ):
        return ""
    return event.join_url


def join_url_for(*, event: EventPost, user) -> str:
    """The join link for this reader: confirmed registrants and the event's managers; else "".

    The one gate for the link: pages, the API, e-mails and calendar files all ask here (or
    `join_url_for_registration`), so no public page, card, feed or search result has it.
    """
    if event.mode == EventPost.Mode.IN_PERSON or not event.join_url:
        return ""
    if not getattr(user, "is_authenticated", False):
        return ""
    if event.organizer_id == user.pk or permissions.user_can(
        user, permissions.Action.ROSTER, event
    ):
        return event.join_url
    confirmed = EventRegistration.objects.filter(
        event=event, user=user, status=EventRegistration.Status.CONFIRMED
    ).exists()
    return event.join_url if confirmed else ""


def series_occurrences(*, event: EventPost) -> list[EventPost]:
    """The other events of the event's series, by start (empty when it is not in one)."""
    if event.series_id is None:
        return []
    return list(EventPost.objects.filter(series_id=event.series_id).order_by("starts_at", "pk"))


def question_list(*, event_id: int) -> list[EventQuestion]:
    """The event's registration questions, in the organizer's order."""
    return list(EventQuestion.objects.filter(event_id=event_id).order_by("position", "pk"))


def registration_get_ticket(*, registration_id: int, user) -> EventRegistration:
    """The student's own confirmed registration, for the ticket page; DoesNotExist otherwise."""
    return EventRegistration.objects.select_related("event", "event__category").get(
        pk=registration_id,
        user=user,
        status=EventRegistration.Status.CONFIRMED,
        event__status__in=[EventPost.Status.PUBLISHED, EventPost.Status.CANCELLED],
    )


def events_check_in_open(*, now: datetime) -> QuerySet[EventPost]:
    """Published events whose check-in window holds `now` (a few dozen at the busiest hour)."""
    return EventPost.objects.filter(
        status=EventPost.Status.PUBLISHED,
        starts_at__lte=now + CHECK_IN_OPENS_BEFORE,
        ends_at__gte=now - CHECK_IN_CLOSES_AFTER,
    ).order_by("starts_at", "pk")


def event_asks_location(*, event_id: int) -> bool:
    """Self check-in at this event needs the phone's location (the organizer set a radius)."""
    return EventPost.objects.filter(pk=event_id, check_in_radius_m__isnull=False).exists()


# The live counts on the organizer's check-in pages: shared for a few seconds, so however
# many screens poll an event, the database counts it at most once in that time.
CHECK_IN_COUNTS_CACHE_SECONDS = 3


def check_in_counts_key(event_id: int) -> str:
    return f"events:check-in-counts:{event_id}"


def check_in_counts(*, event_id: int, fresh: bool = False) -> dict[str, int | None]:
    """Checked in / confirmed / waitlisted (and the capacity) of the event.

    Up to CHECK_IN_COUNTS_CACHE_SECONDS old; `fresh` counts now (a page after an action).
    """
    key = check_in_counts_key(event_id)
    counts = None if fresh else cache.get(key)
    if counts is None:
        row = (
            EventPost.objects.filter(pk=event_id)
            .annotate(
                checked_in=Count(
                    "registrations",
                    filter=Q(
                        registrations__status=EventRegistration.Status.CONFIRMED,
                        registrations__checked_in_at__isnull=False,
                    ),
                )
            )
            .values("checked_in", "seats_taken", "waitlist_count", "capacity")
            .first()
        ) or {"checked_in": 0, "seats_taken": 0, "waitlist_count": 0, "capacity": None}
        counts = {
            "checked_in": row["checked_in"],
            "confirmed": row["seats_taken"],
            "waitlisted": row["waitlist_count"],
            "capacity": row["capacity"],
        }
        cache.set(key, counts, CHECK_IN_COUNTS_CACHE_SECONDS)
    return counts


# How many roster matches the door search shows: a name narrows it to a few in practice.
DOOR_SEARCH_LIMIT = 20


def roster_search(*, event: EventPost, query: str) -> list[EventRegistration]:
    """The event's registrations whose student's name or e-mail contains the query.

    Seated students not yet checked in first, then checked in, then waitlisted, then
    released or cancelled; by name within each.
    """
    status_order = Case(
        When(status=EventRegistration.Status.CONFIRMED, checked_in_at__isnull=True, then=0),
        When(status=EventRegistration.Status.CONFIRMED, then=1),
        When(status=EventRegistration.Status.WAITLISTED, then=2),
        default=3,
        output_field=IntegerField(),
    )
    return list(
        EventRegistration.objects.filter(event=event)
        .filter(Q(user__display_name__icontains=query) | Q(user__email__icontains=query))
        .select_related("user")
        .annotate(door_order=status_order)
        .order_by("door_order", "user__display_name", "user__email")[:DOOR_SEARCH_LIMIT]
    )


def check_ins_latest(*, event: EventPost, limit: int = 5) -> list[EventRegistration]:
    """The event's latest check-ins, newest first: the door page's "just checked in"."""
    return list(
        EventRegistration.objects.filter(event=event, checked_in_at__isnull=False)
        .select_related("user")
        .order_by("-checked_in_at", "-pk")[:limit]
    )
