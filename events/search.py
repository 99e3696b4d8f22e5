"""Event search: validate raw query-string input, then query PostgreSQL full-text search.

Callers (the search page and the JSON API) use three functions:

    params = parse_search_params(request.GET)      # raises SearchParamsError
    results = event_search(params, page=page_number)
    titles = event_suggest(prefix)

Highlighting contract: `headline_title` and `headline_description` are plain, unescaped
user text in which each match is wrapped in HIGHLIGHT_START ... HIGHLIGHT_STOP. Marker
characters that occur in the stored text itself are removed before highlighting, so every
marker in the output is one of ours. Render with `mark_highlights()` (escapes everything,
then turns the markers into <mark>) or split with `highlight_segments()` for JSON.

Bounded work, so a common word costs the same at 5k or 500k events:
- Ranking, the total, the facets and the distance order use the soonest CANDIDATE_LIMIT
  (200) matches; `total_is_capped` / `facets_are_capped` say when there are more ("200+").
- Each search first asks event_search_facts() (one round trip) for the planner's estimate
  of its matches. Selective searches fetch every match through the GIN (or coordinates)
  index; the others walk upcoming events in start order and stop after WALK_WINDOW (5,000)
  events, so no search reads many more rows than that. docs/BENCHMARKS.md has the figures.
- Past events are out unless asked for, so the walk starts at "now" in the starts_at index.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import (
    BooleanField,
    DateTimeField,
    ExpressionWrapper,
    F,
    Field,
    FloatField,
    Func,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from core import clock, metrics
from core.errors import UserError

from .models import SEARCH_CONFIG, EventCategory, EventPost
from .places import CAMPUS_PLACES, place_find

MAX_QUERY_LENGTH = 200
MAX_RADIUS_KM = 50.0
MAX_CATEGORIES = 20
MAX_PAGE_SIZE = 100
# earthdistance's earth() radius, so bounding boxes agree with its distances.
EARTH_RADIUS_KM = 6378.168
# Ranking, totals and facets read at most this many matches; also the deepest reachable result.
# 200 soonest matches of a common word span about seven weeks of a 1,800-event term and hold
# dozens of title matches, more than a first page; every candidate costs ranking time (500
# took twice as long; docs/BENCHMARKS.md).
CANDIDATE_LIMIT = 200
# No search reads many more rows than this: a query whose words are common looks for its
# matches among this many upcoming events (in start order) instead of reading them all.
WALK_WINDOW = 5_000
SUGGEST_WINDOW = 2_000
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)

# U+2063 INVISIBLE SEPARATOR makes the markers impossible to type by accident and invisible
# if a caller forgets to convert them; the brackets keep them readable in logs and tests.
HIGHLIGHT_START = "\u2063[["
HIGHLIGHT_STOP = "]]\u2063"
_MARKER_CHARACTER = "\u2063"

# ts_rank weights for D, C, B, A (description C, location B, title A): a title hit must
# outrank several description hits. ts_rank, not ts_rank_cd: half the cost per row, and the
# weights carry the ordering that matters here.
RANK_WEIGHTS = [0.05, 0.1, 0.3, 1.0]

SortOrder = Literal["relevance", "start", "distance"]
SORT_ORDERS: tuple[SortOrder, ...] = ("relevance", "start", "distance")

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COORDINATES_PATTERN = re.compile(r"^\s*([^,\s]+)\s*,\s*([^,\s]+)\s*$")
_PREFIX_WORD = re.compile(r"[^\W_]+")
_QUERY_WORD = re.compile(r"(?<![\w-])(-?)([^\W\d_]{3,40})\b")


class SearchParamsError(UserError):
    """Bad search input; `fields` maps each parameter to messages a student can act on."""

    code = "invalid"
    http_status = 422
    default_message = "Some input is not valid."

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__()
        self.fields = fields


@dataclass(frozen=True, kw_only=True)
class SearchParams:
    q: str = ""
    categories: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    near: tuple[float, float] | None = None
    near_label: str = ""
    radius_km: float | None = None
    sort: SortOrder | None = None
    include_past: bool = False
    include_cancelled: bool = False

    def __post_init__(self) -> None:
        if self.sort is None:
            object.__setattr__(self, "sort", "relevance" if self.q.strip() else "start")


class Facet(NamedTuple):
    slug: str
    name: str
    count: int


@dataclass(frozen=True, kw_only=True)
class SearchResults:
    """One page of results, shaped like django.core.paginator.Page where it matters."""

    events: list[EventPost]
    total: int
    total_is_capped: bool
    facets: list[Facet]
    facets_are_capped: bool
    did_you_mean: str | None
    number: int
    page_size: int
    params: SearchParams = field(repr=False)

    @property
    def object_list(self) -> list[EventPost]:
        return self.events

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(min(self.total, CANDIDATE_LIMIT) / self.page_size))

    def has_next(self) -> bool:
        return self.number < self.num_pages

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.events else 0

    def end_index(self) -> int:
        return (self.number - 1) * self.page_size + len(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self):
        return iter(self.events)


# ---------------------------------------------------------------------------------------------
# Parsing raw input


def _values(data: Mapping[str, str | list[str]], key: str) -> list[str]:
    if hasattr(data, "getlist"):
        raw = data.getlist(key)
    else:
        value = data.get(key)
        raw = [] if value is None else list(value) if isinstance(value, list | tuple) else [value]
    return [_clean_text(str(item)) for item in raw]


def _single(data: Mapping[str, str | list[str]], key: str) -> str:
    values = _values(data, key)
    return values[-1].strip() if values else ""


def _clean_text(text: str) -> str:
    """Drop what PostgreSQL cannot store (NUL) and what UTF-8 cannot encode (lone surrogates)."""
    return text.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")


def _truncate_query(text: str) -> str:
    # A query longer than any title is not a search anyone typed; cutting it (at a word
    # boundary) keeps the page useful, where an error would only frustrate a paste.
    text = " ".join(text.split())
    if len(text) <= MAX_QUERY_LENGTH:
        return text
    cut = text[:MAX_QUERY_LENGTH]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def _parse_float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _parse_date(text: str, errors: list[str]) -> dt.date | None:
    if not text:
        return None
    if not _DATE_PATTERN.match(text):
        errors.append(f"“{text[:40]}” is not a date; use YYYY-MM-DD.")
        return None
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        errors.append(f"“{text}” is not a real date.")
        return None
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        errors.append(f"Dates must be between {EARLIEST_DATE} and {LATEST_DATE}.")
        return None
    return value


def _parse_flag(text: str, errors: list[str]) -> bool:
    lowered = text.lower()
    if lowered in _TRUE_WORDS:
        return True
    if lowered not in _FALSE_WORDS:
        errors.append("Use 1 or 0.")
    return False


def _parse_coordinates(
    latitude_text: str, longitude_text: str, errors: dict[str, list[str]], field_name: str
) -> tuple[float, float] | None:
    latitude = _parse_float(latitude_text)
    longitude = _parse_float(longitude_text)
    if latitude is None or longitude is None:
        errors.setdefault(field_name, []).append("Latitude and longitude must be numbers.")
        return None
    if not -90 <= latitude <= 90:
        errors.setdefault(field_name, []).append("Latitude must be between -90 and 90.")
    if not -180 <= longitude <= 180:
        errors.setdefault(field_name, []).append("Longitude must be between -180 and 180.")
    if field_name in errors:
        return None
    return latitude, longitude


def parse_search_params(data: Mapping[str, str | list[str]]) -> SearchParams:
    """Validate raw GET input (a QueryDict or a plain mapping) into SearchParams.

    Raises SearchParamsError naming every bad parameter. Queries longer than
    MAX_QUERY_LENGTH are shortened, not refused. Runs one query when categories are given.
    """
    errors: dict[str, list[str]] = {}

    q = _truncate_query(_single(data, "q"))

    categories = tuple(dict.fromkeys(v.strip().lower() for v in _values(data, "category") if v))
    if len(categories) > MAX_CATEGORIES:
        errors["category"] = [f"Choose at most {MAX_CATEGORIES} categories."]
    elif categories:
        known = set(
            EventCategory.objects.filter(slug__in=categories).values_list("slug", flat=True)
        )
        unknown = [slug for slug in categories if slug not in known]
        if unknown:
            errors["category"] = [f"Unknown category “{slug[:80]}”." for slug in unknown]

    date_errors: dict[str, list[str]] = {"from": [], "to": []}
    date_from = _parse_date(_single(data, "from"), date_errors["from"])
    date_to = _parse_date(_single(data, "to"), date_errors["to"])
    if date_from and date_to and date_from > date_to:
        date_errors["to"].append("The end date is before the start date.")
    errors.update({name: msgs for name, msgs in date_errors.items() if msgs})

    near: tuple[float, float] | None = None
    near_label = ""
    near_text = _single(data, "near")
    latitude_text, longitude_text = _single(data, "lat"), _single(data, "lng")
    if near_text and (latitude_text or longitude_text):
        errors["near"] = ["Give either a place or lat and lng, not both."]
    elif near_text:
        place = place_find(near_text)
        coordinates_match = _COORDINATES_PATTERN.match(near_text)
        if place is not None:
            near, near_label = (place.latitude, place.longitude), place.name
        elif coordinates_match:
            near = _parse_coordinates(*coordinates_match.groups(), errors, "near")
        else:
            errors["near"] = [
                f"Unknown place “{near_text[:80]}”; use a campus building or lat,lng."
            ]
    elif latitude_text or longitude_text:
        near = _parse_coordinates(latitude_text, longitude_text, errors, "lat")

    radius_km: float | None = None
    radius_text = _single(data, "radius_km")
    if radius_text:
        radius_km = _parse_float(radius_text)
        if radius_km is None:
            errors["radius_km"] = ["The radius must be a number of kilometres."]
        elif radius_km <= 0:
            errors["radius_km"] = ["The radius must be more than 0 km."]
        elif radius_km > MAX_RADIUS_KM:
            errors["radius_km"] = [f"The radius can be at most {MAX_RADIUS_KM:g} km."]
        elif not near_text and not latitude_text and not longitude_text:
            errors["radius_km"] = ["A radius needs a place (near) or lat and lng."]

    sort_text = _single(data, "sort").lower()
    sort: SortOrder | None = None
    if sort_text:
        if sort_text not in SORT_ORDERS:
            errors["sort"] = [f"Sort by one of: {', '.join(SORT_ORDERS)}."]
        else:
            sort = sort_text  # type: ignore[assignment]
            if sort == "distance" and not (near_text or latitude_text or longitude_text):
                errors["sort"] = ["Sorting by distance needs a place (near) or lat and lng."]

    flag_errors: dict[str, list[str]] = {"past": [], "cancelled": []}
    include_past = _parse_flag(_single(data, "past"), flag_errors["past"])
    include_cancelled = _parse_flag(_single(data, "cancelled"), flag_errors["cancelled"])
    errors.update({name: msgs for name, msgs in flag_errors.items() if msgs})

    if errors:
        raise SearchParamsError(errors)
    return SearchParams(
        q=q,
        categories=categories,
        date_from=date_from,
        date_to=date_to,
        near=near,
        near_label=near_label,
        radius_km=radius_km,
        sort=sort,
        include_past=include_past,
        include_cancelled=include_cancelled,
    )


def parse_page_number(value: str | None) -> int:
    """A 1-based page number from input such as `page=abc`; raises SearchParamsError."""
    if value is None or value.strip() == "":
        return 1
    text = value.strip()
    if not text.isdecimal() or not 1 <= int(text) <= CANDIDATE_LIMIT:
        raise SearchParamsError(
            {"page": [f"The page must be a number from 1 to {CANDIDATE_LIMIT}."]}
        )
    return int(text)


# ---------------------------------------------------------------------------------------------
# SQL building blocks


class _CubeField(Field):
    def db_type(self, connection) -> str:
        return "cube"


def _geo_point(latitude, longitude) -> Func:
    # event_geo_point (migration 0003): ll_to_earth's point, schema-qualified and inlinable.
    return Func(latitude, longitude, function="event_geo_point", output_field=_CubeField())


def _event_point() -> Func:
    return _geo_point(F("latitude"), F("longitude"))


def _place_point(near: tuple[float, float]) -> Func:
    return _geo_point(Value(near[0]), Value(near[1]))


def _chord_m(great_circle_m: float) -> Func:
    """The straight-line distance through the earth for a distance along its surface."""
    return Func(Value(great_circle_m), function="gc_to_sec", output_field=FloatField())


def _straight_distance_m(near: tuple[float, float]) -> Func:
    return Func(
        _event_point(), _place_point(near), function="cube_distance", output_field=FloatField()
    )


class _Operator(Func):
    """`left <op> right`; the operator is fixed by the code, never taken from input."""

    template = "(%(expressions)s)"

    def __init__(self, left, operator: str, right, *, output_field) -> None:
        self.arg_joiner = f" {operator} "
        super().__init__(left, right, output_field=output_field)


def _web_query(q: str) -> SearchQuery:
    # websearch_to_tsquery never raises, whatever the input (lone quotes, `-`, `or or`).
    return SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)


def _matches(q: str) -> Q:
    return Q(_Operator(F("search_vector"), "@@", _web_query(q), output_field=BooleanField()))


@dataclass(frozen=True)
class _SearchFacts:
    """What the plan choice needs, from event_search_facts() (migration 0005)."""

    query_is_empty: bool
    estimated_matches: float | None
    estimated_title_matches: float | None
    box_rows: int | None
    event_rows: float
    longest_event: dt.timedelta
    # Rows the index plan fetches: more than the matches when the query has negations.
    index_rows: float | None


def _search_facts(
    *, q: str = "", title_prefix: str = "", box: dict[str, float] | None = None
) -> _SearchFacts:
    box_array = None
    if box is not None:
        box_array = [
            box["latitude__gte"],
            box["latitude__lte"],
            box.get("longitude__gte", -180.0),
            box.get("longitude__lte", 180.0),
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM event_search_facts("
            " CASE WHEN %s <> '' THEN websearch_to_tsquery(%s::regconfig, %s) END,"
            " CASE WHEN %s <> '' THEN to_tsquery('simple'::regconfig, %s) END,"
            " %s::double precision[], %s)",
            (q, SEARCH_CONFIG, q, title_prefix, title_prefix, box_array, WALK_WINDOW),
        )
        return _SearchFacts(*cursor.fetchone())


def _prefers_index(
    estimated_rows: float | None,
    *,
    event_rows: float,
    wanted: int,
    window: int,
    index_rows: float | None = None,
) -> bool:
    """Whether fetching every match through an index beats walking upcoming events.

    The index plan reads every match, past ones included, and for a query with negations
    every event matching its other words (`index_rows`); the walk reads events in start
    order until it has `wanted` matches, about wanted x event_rows / matches of them, and
    never more than `window`. Take the index while it reads fewer rows than the walk.
    """
    if estimated_rows is None:
        return False
    index_reads = max(estimated_rows, index_rows or 0.0)
    walk_reads = min(float(window), wanted * max(event_rows, 1.0) / max(estimated_rows, 1.0))
    return index_reads <= window and index_reads < walk_reads


Strategy = Literal["index", "walk"]


def _filtered_events(
    params: SearchParams,
    *,
    now: dt.datetime,
    facts: _SearchFacts,
    strategy: Strategy,
    with_categories: bool = True,
    with_text_and_place: bool = True,
) -> QuerySet[EventPost]:
    """Visible events matching the filters, shaped for one of two plans.

    "walk" reads the starts_at index from now on, so it needs a lower bound on starts_at:
    nothing that started before now minus the longest event can still be running. "index"
    fetches every match through the GIN or coordinates index and gets no such bound, nor
    an indexable category test: given both, the planner ANDs a selective bitmap with a
    bitmap of every upcoming event (180,000 entries at 500k), which costs more than
    either plan alone.
    """
    statuses = [EventPost.Status.PUBLISHED]
    if params.include_cancelled:
        statuses.append(EventPost.Status.CANCELLED)
    events = EventPost.objects.filter(status__in=statuses)

    floor = None if params.include_past else now
    if params.date_from is not None:
        date_floor = clock.midnight(params.date_from)
        floor = date_floor if floor is None else max(floor, date_floor)
    if floor is not None:
        events = events.filter(ends_at__gt=floor)
        if strategy == "walk":
            events = events.filter(starts_at__gt=floor - facts.longest_event)
    if params.date_to is not None:
        events = events.filter(starts_at__lt=clock.midnight(params.date_to + dt.timedelta(1)))

    if with_categories and params.categories:
        category_ids = EventCategory.objects.filter(slug__in=params.categories).values("id")
        if strategy == "index":
            events = events.alias(unindexed_category_id=F("category_id") + 0).filter(
                unindexed_category_id__in=category_ids
            )
        elif len(params.categories) == 1:
            # An equality lets the (category, starts_at) index walk one category in order.
            events = events.filter(category_id=Subquery(category_ids[:1]))
        else:
            events = events.filter(category_id__in=category_ids)

    if params.near is not None:
        events = events.filter(latitude__isnull=False)
    if not with_text_and_place:
        return events

    if params.q and not facts.query_is_empty:
        events = events.filter(_matches(params.q))
    if params.near is not None and params.radius_km is not None:
        events = events.filter(**_bounding_box(params.near, params.radius_km))
        chord_m = _chord_m(params.radius_km * 1000)
        events = events.filter(
            _Operator(_straight_distance_m(params.near), "<=", chord_m, output_field=BooleanField())
        )
    return events


def _bounding_box(near: tuple[float, float], radius_km: float) -> dict[str, float]:
    """Latitude/longitude bounds around a circle, for event_published_coordinates_idx.

    Longitude bounds are left out near a pole or the antimeridian, where they would wrap.
    The box only narrows the search; the exact great-circle test follows it. (A GiST index
    on ll_to_earth() was the first design: cube's operators have a fixed 0.1% selectivity
    guess, and the planner read a campus-wide box of 360,000 rows through it.)
    """
    latitude, longitude = near
    angle = radius_km / EARTH_RADIUS_KM * 1.01  # a little slack; the exact test follows
    box = {
        "latitude__gte": latitude - math.degrees(angle),
        "latitude__lte": latitude + math.degrees(angle),
    }
    if abs(latitude) + math.degrees(angle) < 89:
        longitude_angle = math.degrees(
            math.asin(math.sin(angle) / math.cos(math.radians(latitude)))
        )
        if longitude - longitude_angle > -180 and longitude + longitude_angle < 180:
            box["longitude__gte"] = longitude - longitude_angle
            box["longitude__lte"] = longitude + longitude_angle
    return box


def _candidate_order(params: SearchParams, strategy: Strategy = "walk") -> list:
    """Soonest first (latest first when past events are included).

    For the index plan the start time is wrapped in an expression no index has: ordered by
    starts_at itself, the planner may walk that index instead, from the first event ever
    when the index plan has left it no lower bound.
    """
    starts_at = F("starts_at")
    if strategy == "index":
        starts_at = ExpressionWrapper(
            F("starts_at") + Value(dt.timedelta(0)), output_field=DateTimeField()
        )
    if params.include_past:
        return [starts_at.desc(), F("pk").desc()]
    return [starts_at.asc(), F("pk").asc()]


# ---------------------------------------------------------------------------------------------
# Search


def event_search(
    params: SearchParams,
    *,
    page: int = 1,
    page_size: int = 20,
    now: dt.datetime | None = None,
) -> SearchResults:
    """One page of published events matching `params`, with total, facets and did-you-mean.

    Two SQL statements whatever the page size (the plan facts, then the search), plus one
    for the spelling suggestion when nothing matches. Matches are read once into a capped
    candidate set (the soonest CANDIDATE_LIMIT + 1); the page in any order, the total and
    the facets all come from it.
    """
    now = now or timezone.now()
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    page = min(max(page, 1), math.ceil(CANDIDATE_LIMIT / page_size))
    offset = (page - 1) * page_size
    statement = _SearchStatement(params, now=now, limit=page_size, offset=offset)

    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall()
    total_rows, facet_rows_json = rows[0][0], rows[0][1] or []
    facets = [Facet(slug, name, count) for slug, name, count in facet_rows_json]
    facet_rows = sum(facet.count for facet in facets)
    page_events = [statement.event_from_row(row) for row in rows if row[_EVENT_ID] is not None]

    did_you_mean = spelling_suggestion(params.q) if total_rows == 0 and params.q else None
    metrics.increment("searches", tags={"results": "some" if total_rows else "none"})
    return SearchResults(
        events=page_events,
        total=min(total_rows, CANDIDATE_LIMIT),
        total_is_capped=total_rows > CANDIDATE_LIMIT or statement.window_may_hide_matches,
        facets=facets,
        facets_are_capped=facet_rows > CANDIDATE_LIMIT or statement.window_may_hide_matches,
        did_you_mean=did_you_mean,
        number=page,
        page_size=page_size,
        params=params,
    )


def _compiled(queryset: QuerySet) -> tuple[str, tuple]:
    sql, sql_params = queryset.query.sql_with_params()
    return sql, tuple(sql_params)


def _candidates_sql(
    params: SearchParams,
    *,
    now: dt.datetime,
    facts: _SearchFacts,
    strategy: Strategy,
    columns: list[str],
    with_categories: bool = True,
) -> tuple[str, tuple]:
    """SQL for the first CANDIDATE_LIMIT + 1 matches in candidate order.

    `columns` are event columns, plus "distance_m" for the straight-line distance to the
    place searched near and, for a walk only, "rank" for ts_rank of the text query: computed
    on the capped rows as they leave the walk, so the candidate set need not carry the wide
    search_vector. (The index plan sorts all its matches first, so it ranks later.)

    A walk with a text or radius filter only looks at the next WALK_WINDOW events: the walk
    is chosen when matches are common, so the window nearly always fills the cap; when the
    planner overestimated (a phrase of two common words), the window bounds the cost.
    """
    order = _candidate_order(params, strategy)
    has_text = bool(params.q) and not facts.query_is_empty
    has_radius = params.near is not None and params.radius_km is not None
    events = _filtered_events(
        params,
        now=now,
        facts=facts,
        strategy=strategy,
        with_categories=with_categories,
        with_text_and_place=strategy == "index" or not (has_text or has_radius),
    )
    if strategy == "index" or not (has_text or has_radius):
        if "distance_m" in columns and params.near is not None:
            events = events.annotate(distance_m=_straight_distance_m(params.near))
        return _compiled(events.order_by(*order).values(*columns)[: CANDIDATE_LIMIT + 1])

    event_columns = [column for column in columns if column not in ("distance_m", "rank")]
    window_columns = list(event_columns)
    if has_text:
        window_columns.append("search_vector")
    if params.near is not None:
        window_columns += ["latitude", "longitude"]
    window_sql, window_params = _compiled(
        events.order_by(*order).values(*dict.fromkeys(window_columns))[:WALK_WINDOW]
    )
    select = [f"window_events.{column}" for column in event_columns]
    select_params: list = []
    distance_sql = (
        "cube_distance(event_geo_point(window_events.latitude, window_events.longitude),"
        " event_geo_point(%s, %s))"
    )
    if "distance_m" in columns and params.near is not None:
        select.append(f"{distance_sql} AS distance_m")
        select_params += list(params.near)
    if "rank" in columns and has_text:
        select.append(
            "ts_rank(%s::real[], window_events.search_vector,"
            " websearch_to_tsquery(%s::regconfig, %s)) AS rank"
        )
        select_params += [RANK_WEIGHTS, SEARCH_CONFIG, params.q]
    # Conditions on the window's rows, which no index can serve: that is the point.
    conditions: list[str] = []
    condition_params: list = []
    if has_text:
        conditions.append(
            "ts_match_vq(window_events.search_vector, websearch_to_tsquery(%s::regconfig, %s))"
        )
        condition_params += [SEARCH_CONFIG, params.q]
    if has_radius and params.near is not None and params.radius_km is not None:
        for lookup, bound in _bounding_box(params.near, params.radius_km).items():
            column, comparison = lookup.split("__")
            operator = ">=" if comparison == "gte" else "<="
            conditions.append(f"window_events.{column} {operator} %s")
            condition_params.append(bound)
        conditions.append(f"{distance_sql} <= gc_to_sec(%s)")
        condition_params += [*params.near, params.radius_km * 1000]
    descending = " DESC" if params.include_past else ""
    sql = (
        f"SELECT {', '.join(select)} FROM ({window_sql}) AS window_events"  # noqa: S608 - values are parameters # nosec B608
        f" WHERE {' AND '.join(conditions)}"
        f" ORDER BY starts_at{descending}, id{descending} LIMIT %s"
    )
    return sql, (*select_params, *window_params, *condition_params, CANDIDATE_LIMIT + 1)


def _headline_options(**options: str) -> str:
    return ", ".join(f'{name}="{value}"' for name, value in options.items())


_TITLE_HEADLINE_OPTIONS = _headline_options(
    StartSel=HIGHLIGHT_START, StopSel=HIGHLIGHT_STOP, HighlightAll="true"
)
_DESCRIPTION_HEADLINE_OPTIONS = _headline_options(
    StartSel=HIGHLIGHT_START,
    StopSel=HIGHLIGHT_STOP,
    MaxWords="30",
    MinWords="12",
    MaxFragments="2",
    FragmentDelimiter=" … ",
)
# ts_headline parses and stems all the text it is given, and with MaxFragments it weighs
# every cover of the query: ~45 µs for a 420-character description, ~4 ms for a 5,000-
# character one with many matches. It gets at most this many characters, starting a little
# before the first occurrence of a query lexeme, which in English is nearly always a prefix
# of the word ("meet" in "meetings"); where none occurs it gets the beginning.
HEADLINE_TEXT_LENGTH = 300
HEADLINE_LEAD = 100
# A lexeme in a tsquery's text: quoted, with quotes inside doubled.
_TSQUERY_LEXEME = r"'((?:[^']|'')+)'"


def _description_excerpt(q: str) -> tuple[str, list]:
    """SQL for the part of event.description a headline needs, and its parameters."""
    lexemes = (
        "(SELECT array_agg(replace(found[1], '''''', '''')) FROM regexp_matches("
        " querytree(websearch_to_tsquery(%s::regconfig, %s)), %s, 'g') AS found)"
    )
    sql = (
        "CASE WHEN length(event.description) <= %s THEN event.description ELSE ("  # noqa: S608 - constants only # nosec B608
        " SELECT CASE WHEN start.at = 1 THEN left(event.description, %s)"
        # Drop the word the excerpt starts inside of.
        " ELSE regexp_replace(substr(event.description, start.at, %s), '^\\S*\\s+', '') END"
        " FROM (SELECT greatest(1, coalesce(min(nullif(strpos(lower(event.description),"
        f" lexeme), 0)), 1) - %s) AS at FROM unnest({lexemes}) AS lexeme) AS start"
        ") END"
    )
    length = HEADLINE_TEXT_LENGTH
    return sql, [length, length, length, HEADLINE_LEAD, SEARCH_CONFIG, q, _TSQUERY_LEXEME]


_EVENT_FIELDS = [f for f in EventPost._meta.concrete_fields if f.name != "search_vector"]
_CATEGORY_FIELDS = list(EventCategory._meta.concrete_fields)
# Positions in a result row: total, facets, rank, distance_km, two headlines, then the columns.
_EVENT_ID = 6
_CATEGORY_START = _EVENT_ID + len(_EVENT_FIELDS)


class _SearchStatement:
    """The single statement behind event_search; user input only ever travels as parameters.

    The SQL text is assembled from constants and from SQL Django compiled for the filters,
    which carries its own placeholders; `params` lists every value in textual order.
    """

    def __init__(self, params: SearchParams, *, now: dt.datetime, limit: int, offset: int):
        self.search = params
        sort = params.sort
        if sort == "distance" and params.near is None:
            sort = "start"
        if sort == "relevance" and not params.q:
            sort = "start"
        sql_params: list = []
        descending = " DESC" if params.include_past else ""
        box = None
        if params.near is not None and params.radius_km is not None:
            box = _bounding_box(params.near, params.radius_km)
        self.facts = facts = _search_facts(q=params.q, box=box)
        has_text = bool(params.q) and not facts.query_is_empty
        plan_sizes = {
            "event_rows": facts.event_rows,
            "wanted": CANDIDATE_LIMIT,
            "window": WALK_WINDOW,
        }
        selective = (
            has_text
            and _prefers_index(facts.estimated_matches, index_rows=facts.index_rows, **plan_sizes)
        ) or (box is not None and _prefers_index(facts.box_rows, **plan_sizes))
        strategy: Strategy = "index" if selective else "walk"
        # A walk that finds fewer matches than the cap may have stopped at its scan window.
        self.window_may_hide_matches = (
            strategy == "walk" and (has_text or box is not None) and facts.event_rows > WALK_WINDOW
        )

        matched_columns = ["id", "category_id", "starts_at"]
        ranked_in_walk = sort == "relevance" and strategy == "walk" and has_text
        if ranked_in_walk:
            matched_columns.append("rank")
        elif sort == "relevance":
            matched_columns.append("search_vector")
        elif sort == "distance" and params.near is not None:
            matched_columns.append("distance_m")
        matched_sql, matched_params = _candidates_sql(
            params, now=now, facts=facts, strategy=strategy, columns=matched_columns
        )
        ctes = [f"matched AS MATERIALIZED ({matched_sql})"]
        sql_params += matched_params

        facet_source = "matched"
        if params.categories:
            facet_sql, facet_params = _candidates_sql(
                params,
                now=now,
                facts=facts,
                strategy=strategy,
                columns=["id", "category_id", "starts_at"],
                with_categories=False,
            )
            ctes.append(f"facet_source AS MATERIALIZED ({facet_sql})")
            sql_params += facet_params
            facet_source = "facet_source"

        # matched holds one extra row, only to tell whether the cap was reached.
        candidates = (
            f"(SELECT * FROM matched ORDER BY starts_at{descending}, id{descending}"  # noqa: S608 - values are parameters # nosec B608
            " LIMIT %s) AS candidate"
        )
        if ranked_in_walk:
            ctes.append(
                f"page AS (SELECT id, rank AS sort_key FROM {candidates}"  # noqa: S608 - values are parameters # nosec B608
                " ORDER BY sort_key DESC, starts_at, id LIMIT %s OFFSET %s)"
            )
            sql_params += [CANDIDATE_LIMIT, limit, offset]
            order = "page.sort_key DESC, event.starts_at, event.id"
        elif sort == "relevance":
            ctes.append(
                "page AS (SELECT id, ts_rank(%s::real[], search_vector,"  # noqa: S608 - values are parameters # nosec B608
                f" websearch_to_tsquery(%s::regconfig, %s)) AS sort_key FROM {candidates}"
                " ORDER BY sort_key DESC, starts_at, id LIMIT %s OFFSET %s)"
            )
            sql_params += [RANK_WEIGHTS, SEARCH_CONFIG, params.q, CANDIDATE_LIMIT, limit, offset]
            order = "page.sort_key DESC, event.starts_at, event.id"
        elif sort == "distance" and params.near is not None:
            ctes.append(
                f"page AS (SELECT id, distance_m AS sort_key FROM {candidates}"  # noqa: S608 - values are parameters # nosec B608
                " ORDER BY sort_key, starts_at, id LIMIT %s OFFSET %s)"
            )
            sql_params += [CANDIDATE_LIMIT, limit, offset]
            order = "page.sort_key, event.starts_at, event.id"
        else:
            ctes.append(
                "page AS (SELECT id, NULL::float8 AS sort_key FROM matched"  # noqa: S608 - values are parameters # nosec B608
                f" ORDER BY starts_at{descending}, id{descending} LIMIT %s OFFSET %s)"
            )
            sql_params += [limit, offset]
            order = f"event.starts_at{descending}, event.id{descending}"

        # Display columns in row order: rank, distance_km, headline_title, headline_description.
        display: list[tuple[str, list]] = [("NULL::real", []), ("NULL::float8", [])]
        display += [("NULL::text", []), ("NULL::text", [])]
        query_sql = "websearch_to_tsquery(%s::regconfig, %s)"
        query_params = [SEARCH_CONFIG, params.q]
        if params.q:
            # The relevance order has ranked the page already; other orders rank it here.
            display[0] = ("page.sort_key::real", [])
            if sort != "relevance":
                display[0] = (
                    f"ts_rank(%s::real[], event.search_vector, {query_sql})",
                    [RANK_WEIGHTS, *query_params],
                )
            for position, (text_sql, text_params), options in (
                (2, ("event.title", []), _TITLE_HEADLINE_OPTIONS),
                (3, _description_excerpt(params.q), _DESCRIPTION_HEADLINE_OPTIONS),
            ):
                # Marker characters typed into the text are dropped, so every marker is ours.
                display[position] = (
                    f"ts_headline(%s::regconfig, replace({text_sql}, %s, ''), {query_sql}, %s)",
                    [SEARCH_CONFIG, *text_params, _MARKER_CHARACTER, *query_params, options],
                )
        if params.near is not None:
            display[1] = (
                "sec_to_gc(cube_distance(event_geo_point(event.latitude, event.longitude),"
                " event_geo_point(%s, %s))) / 1000.0",
                list(params.near),
            )
        display_sql = ", ".join(sql for sql, _ in display)
        for _, values in display:
            sql_params += values

        event_columns = ", ".join(f'event."{f.column}"' for f in _EVENT_FIELDS)
        category_columns = ", ".join(f'category."{f.column}"' for f in _CATEGORY_FIELDS)
        sql_params.append(list(params.categories))
        # Only constants and Django-compiled SQL are formatted in; values are parameters.
        self.sql = f"""
            WITH {", ".join(ctes)}
            SELECT summary.total, summary.facets, {display_sql}, {event_columns}, {category_columns}
            FROM (
                SELECT
                    (SELECT count(*) FROM matched) AS total,
                    (SELECT json_agg(
                        json_build_array(category.slug, category.name, coalesce(counted.n, 0))
                        ORDER BY counted.n DESC NULLS LAST, category.name)
                     FROM events_eventcategory AS category
                     LEFT JOIN (SELECT category_id, count(*) AS n FROM {facet_source}
                                GROUP BY category_id) AS counted
                            ON counted.category_id = category.id
                     WHERE counted.n IS NOT NULL OR category.slug = ANY(%s)) AS facets
            ) AS summary
            LEFT JOIN (
                page
                JOIN events_eventpost AS event ON event.id = page.id
                JOIN events_eventcategory AS category ON category.id = event.category_id
            ) ON true
            ORDER BY {order}
        """  # noqa: S608 - values are parameters # nosec B608
        self.params = tuple(sql_params)

    def event_from_row(self, row: tuple) -> EventPost:
        event = EventPost.from_db(
            connection.alias, [f.attname for f in _EVENT_FIELDS], row[_EVENT_ID:_CATEGORY_START]
        )
        event.category = EventCategory.from_db(
            connection.alias, [f.attname for f in _CATEGORY_FIELDS], row[_CATEGORY_START:]
        )
        if self.search.q:
            event.rank = row[2]
            event.headline_title = row[4]
            event.headline_description = row[5]
        if self.search.near is not None:
            event.distance_km = row[3]
        return event


def spelling_suggestion(q: str) -> str | None:
    """`q` with each word that no upcoming title contains replaced by the closest one that does.

    Uses events_search_word (distinct title words, trigram-indexed); None when nothing changes.
    """
    words = [match for match in _QUERY_WORD.finditer(q) if not match.group(1)]
    lowered = list(dict.fromkeys(match.group(2).lower() for match in words))
    lowered = [word for word in lowered if word != "or"][:10]
    if not lowered:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT typed.word, closest.word, similarity(closest.word, typed.word)
            FROM unnest(%s::text[]) AS typed(word)
            CROSS JOIN LATERAL (
                SELECT candidate.word FROM events_search_word AS candidate
                ORDER BY candidate.word <-> typed.word
                LIMIT 1
            ) AS closest
            """,
            (lowered,),
        )
        replacements = {
            typed: closest
            for typed, closest, similarity in cursor.fetchall()
            if typed != closest and similarity >= 0.3
        }
    if not replacements:
        return None

    def replace(match: re.Match[str]) -> str:
        negated, word = match.groups()
        return match.group(0) if negated else replacements.get(word.lower(), word)

    return _QUERY_WORD.sub(replace, q)


def search_words_refresh() -> None:
    """Rebuild the did-you-mean vocabulary; run after loading data and on a schedule."""
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY events_search_word")


# ---------------------------------------------------------------------------------------------
# Suggestions while typing

# Spelled exactly like the expression of event_published_title_simple_gin, so it is used.
_SIMPLE_TSVECTOR = "to_tsvector('simple'::regconfig, %(expressions)s)"
_SIMPLE_TSQUERY = "to_tsquery('simple'::regconfig, %(expressions)s)"


def event_suggest(prefix: str, *, limit: int = 8, now: dt.datetime | None = None) -> list[str]:
    """Titles of upcoming published events whose title words start with the typed words.

    Every typed word is a prefix ("bask tour" finds "Basketball Tournament"); any input is
    safe because only letters and digits reach to_tsquery. Two statements: the plan facts,
    then the titles, from the title GIN index for rare prefixes or, for common ones, from
    the next SUGGEST_WINDOW events in start order.
    """
    # One-letter prefixes match half the vocabulary and make the GIN scan slow; they add
    # little to the other words.
    words = [w[:40] for w in _PREFIX_WORD.findall(_clean_text(prefix).lower()) if len(w) > 1][:6]
    if not words or limit < 1:
        return []
    now = now or timezone.now()
    tsquery = " & ".join(f"{word}:*" for word in words)
    facts = _search_facts(title_prefix=tsquery)
    upcoming = EventPost.objects.filter(status=EventPost.Status.PUBLISHED, ends_at__gt=now)
    title_matches = _Operator(
        Func(F("title"), template=_SIMPLE_TSVECTOR),
        "@@",
        Func(Value(tsquery), template=_SIMPLE_TSQUERY),
        output_field=BooleanField(),
    )
    if _prefers_index(
        facts.estimated_title_matches,
        event_rows=facts.event_rows,
        wanted=limit * 4,
        window=SUGGEST_WINDOW,
    ):
        titles = upcoming.filter(title_matches).order_by(*_candidate_order(SearchParams(), "index"))
        found = list(titles.values_list("title", flat=True)[: limit * 4])
    else:
        window_sql, window_params = _compiled(
            upcoming.filter(starts_at__gt=now - facts.longest_event)
            .order_by("starts_at", "pk")
            .values("id", "title", "starts_at")[:SUGGEST_WINDOW]
        )
        # A word-start regex per word: several times cheaper per row than to_tsvector.
        word_starts = " AND ".join(["window_events.title ~* %s"] * len(words))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT title FROM ({window_sql}) AS window_events"  # noqa: S608 - values are parameters # nosec B608
                f" WHERE {word_starts} ORDER BY starts_at, id LIMIT %s",
                (*window_params, *(rf"\m{word}" for word in words), limit * 4),
            )
            found = [title for (title,) in cursor.fetchall()]
    return list(dict.fromkeys(found))[:limit]


# ---------------------------------------------------------------------------------------------
# Rendering highlights


def highlight_segments(text: str) -> list[tuple[str, bool]]:
    """Split a headline into (text, is_match) pieces, for JSON clients."""
    segments: list[tuple[str, bool]] = []
    for index, piece in enumerate(
        re.split(f"{re.escape(HIGHLIGHT_START)}|{re.escape(HIGHLIGHT_STOP)}", text)
    ):
        if piece:
            segments.append((piece, index % 2 == 1))
    return segments


def mark_highlights(text: str) -> SafeString:
    """HTML for a headline: all user text escaped, matches wrapped in <mark>."""
    parts = [
        f"<mark>{conditional_escape(piece)}</mark>" if is_match else str(conditional_escape(piece))
        for piece, is_match in highlight_segments(text)
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every piece was escaped # nosec B308 B703


def format_count(count: int, *, capped: bool) -> str:
    """'500+' for capped totals and facet counts, '42' otherwise."""
    return f"{count:,}+" if capped else f"{count:,}"


__all__ = [
    "CAMPUS_PLACES",
    "HIGHLIGHT_START",
    "HIGHLIGHT_STOP",
    "Facet",
    "SearchParams",
    "SearchParamsError",
    "SearchResults",
    "event_search",
    "event_suggest",
    "format_count",
    "highlight_segments",
    "mark_highlights",
    "parse_page_number",
    "parse_search_params",
    "search_words_refresh",
    "spelling_suggestion",
]
