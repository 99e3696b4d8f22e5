"""SQL building blocks of a search: filters, distances, the capped candidate set, headlines.

User input only ever travels as parameters; SQL text is assembled from constants and from
SQL Django compiled for the filters.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    BooleanField,
    F,
    Field,
    FloatField,
    Func,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL

from core import clock
from events.models import EventCategory, EventPost

from . import plan
from .highlight import HIGHLIGHT_START, HIGHLIGHT_STOP
from .params import SearchParams
from .plan import SearchFacts, Strategy, bounding_box, candidate_order
from .synonyms import tsquery_sql

# outrank several description hits. ts_rank, not ts_rank_cd: half the cost per row, and the
# weights carry the ordering that matters here.
RANK_WEIGHTS = [0.05, 0.1, 0.3, 1.0]


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


class Operator(Func):
    """`left <op> right`; the operator is fixed by the code, never taken from input."""

    template = "(%(expressions)s)"

    def __init__(self, left, operator: str, right, *, output_field) -> None:
        self.arg_joiner = f" {operator} "
        super().__init__(left, right, output_field=output_field)


def _matches(params: SearchParams) -> Q:
    # websearch_to_tsquery never raises, whatever the input (lone quotes, `-`, `or or`).
    query_sql, query_params = tsquery_sql(params)
    query = RawSQL(query_sql, query_params)  # noqa: S611 # nosec B611 - constants; values are parameters
    return Q(Operator(F("search_vector"), "@@", query, output_field=BooleanField()))


def filtered_events(
    params: SearchParams,
    *,
    now: dt.datetime,
    facts: SearchFacts,
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
    events = EventPost.objects.filter(status__in=statuses, visibility__in=params.visibilities)

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

    if params.attendance == "online":
        events = events.filter(mode__in=[EventPost.Mode.ONLINE, EventPost.Mode.HYBRID])
    elif params.attendance == "in_person":
        events = events.filter(mode__in=[EventPost.Mode.IN_PERSON, EventPost.Mode.HYBRID])
    if params.drop_in:
        events = events.filter(registration_required=False)
    if params.access:
        events = events.filter(access_features__contains=list(params.access))

    if params.near is not None:
        events = events.filter(latitude__isnull=False)
    if not with_text_and_place:
        return events

    if params.q and not facts.query_is_empty:
        events = events.filter(_matches(params))
    if params.near is not None and params.radius_km is not None:
        events = events.filter(**bounding_box(params.near, params.radius_km))
        chord_m = _chord_m(params.radius_km * 1000)
        events = events.filter(
            Operator(_straight_distance_m(params.near), "<=", chord_m, output_field=BooleanField())
        )
    return events


def compiled(queryset: QuerySet) -> tuple[str, tuple]:
    sql, sql_params = queryset.query.sql_with_params()
    return sql, tuple(sql_params)


def candidates_sql(
    params: SearchParams,
    *,
    now: dt.datetime,
    facts: SearchFacts,
    strategy: Strategy,
    columns: list[str],
    with_categories: bool = True,
) -> tuple[str, tuple]:
    """SQL for the first plan.CANDIDATE_LIMIT + 1 matches in candidate order.

    `columns` are event columns, plus "distance_m" for the straight-line distance to the
    place searched near and, for a walk only, "rank" for ts_rank of the text query: computed
    on the capped rows as they leave the walk, so the candidate set need not carry the wide
    search_vector. (The index plan sorts all its matches first, so it ranks later.)

    A walk with a text or radius filter only looks at the next plan.WALK_WINDOW events: the walk
    is chosen when matches are common, so the window nearly always fills the cap; when the
    planner overestimated (a phrase of two common words), the window bounds the cost.
    """
    order = candidate_order(params, strategy)
    has_text = bool(params.q) and not facts.query_is_empty
    has_radius = params.near is not None and params.radius_km is not None
    events = filtered_events(
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
        return compiled(events.order_by(*order).values(*columns)[: plan.CANDIDATE_LIMIT + 1])

    event_columns = [column for column in columns if column not in ("distance_m", "rank")]
    window_columns = list(event_columns)
    if has_text:
        window_columns.append("search_vector")
    if params.near is not None:
        window_columns += ["latitude", "longitude"]
    window_sql, window_params = compiled(
        events.order_by(*order).values(*dict.fromkeys(window_columns))[: plan.WALK_WINDOW]
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
    query_sql, query_params = tsquery_sql(params)
    if "rank" in columns and has_text:
        select.append(f"ts_rank(%s::real[], window_events.search_vector, {query_sql}) AS rank")
        select_params += [RANK_WEIGHTS, *query_params]
    # Conditions on the window's rows, which no index can serve: that is the point.
    conditions: list[str] = []
    condition_params: list = []
    if has_text:
        conditions.append(f"ts_match_vq(window_events.search_vector, {query_sql})")
        condition_params += query_params
    if has_radius and params.near is not None and params.radius_km is not None:
        for lookup, bound in bounding_box(params.near, params.radius_km).items():
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
    return sql, (*select_params, *window_params, *condition_params, plan.CANDIDATE_LIMIT + 1)


def _headline_options(**options: str) -> str:
    return ", ".join(f'{name}="{value}"' for name, value in options.items())


TITLE_HEADLINE_OPTIONS = _headline_options(
    StartSel=HIGHLIGHT_START, StopSel=HIGHLIGHT_STOP, HighlightAll="true"
)
DESCRIPTION_HEADLINE_OPTIONS = _headline_options(
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


def description_excerpt(params: SearchParams) -> tuple[str, list]:
    """SQL for the part of event.description a headline needs, and its parameters."""
    query_sql, query_params = tsquery_sql(params)
    lexemes = (
        "(SELECT array_agg(replace(found[1], '''''', '''')) FROM regexp_matches("  # noqa: S608 - values are parameters # nosec B608
        f" querytree({query_sql}), %s, 'g') AS found)"
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
    return sql, [length, length, length, HEADLINE_LEAD, *query_params, _TSQUERY_LEXEME]
