"""The plan choice: fetch every match through an index, or walk upcoming events in order.

Bounded work, so a common word costs the same at 5k or 500k events: ranking, totals and
facets read at most CANDIDATE_LIMIT matches, and no walk reads many more than WALK_WINDOW
events. Callers read these limits as `plan.X`, so a test can lower them in one place.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.db import connection
from django.db.models import (
    DateTimeField,
    ExpressionWrapper,
    F,
    Value,
)

if TYPE_CHECKING:
    from .params import SearchParams


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


@dataclass(frozen=True)
class SearchFacts:
    """What the plan choice needs, from event_search_facts() (migration 0005)."""

    query_is_empty: bool
    estimated_matches: float | None
    estimated_title_matches: float | None
    box_rows: int | None
    event_rows: float
    longest_event: dt.timedelta
    # Rows the index plan fetches: more than the matches when the query has negations.
    index_rows: float | None


def search_facts(
    *,
    query: tuple[str, list] | None = None,
    title_prefix: str = "",
    box: dict[str, float] | None = None,
) -> SearchFacts:
    """The facts for a text query (`query`: tsquery SQL and parameters), a prefix or a box."""
    box_array = None
    if box is not None:
        box_array = [
            box["latitude__gte"],
            box["latitude__lte"],
            box.get("longitude__gte", -180.0),
            box.get("longitude__lte", 180.0),
        ]
    query_sql, query_params = query or ("NULL::tsquery", [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM event_search_facts({query_sql},"  # noqa: S608 - values are parameters # nosec B608
            " CASE WHEN %s <> '' THEN to_tsquery('simple'::regconfig, %s) END,"
            " %s::double precision[], %s)",
            (*query_params, title_prefix, title_prefix, box_array, WALK_WINDOW),
        )
        return SearchFacts(*cursor.fetchone())


def prefers_index(
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


def bounding_box(near: tuple[float, float], radius_km: float) -> dict[str, float]:
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


def candidate_order(params: SearchParams, strategy: Strategy = "walk") -> list:
    """Soonest first (latest first when past events are included).

    For the index plan the start time is wrapped in an expression no index has: ordered by
    starts_at itself, the planner may walk that index instead, from the first event ever
    when the index plan has left it no lower bound.
    """
    starts_at: F | ExpressionWrapper = F("starts_at")
    if strategy == "index":
        starts_at = ExpressionWrapper(
            F("starts_at") + Value(dt.timedelta(0)), output_field=DateTimeField()
        )
    if params.include_past:
        return [starts_at.desc(), F("pk").desc()]
    return [starts_at.asc(), F("pk").asc()]
