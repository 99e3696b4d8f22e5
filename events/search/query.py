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

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import NamedTuple, cast

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from core import metrics
from events.models import SEARCH_CONFIG, EventCategory, EventPost

from . import plan, result_cache
from .highlight import MARKER_CHARACTER
from .params import SearchParams
from .sql import (
    DESCRIPTION_HEADLINE_OPTIONS,
    RANK_WEIGHTS,
    TITLE_HEADLINE_OPTIONS,
    bounding_box,
    candidates_sql,
    description_excerpt,
)
from .suggest import spelling_suggestion
from .synonyms import query_synonyms, tsquery_sql

MAX_PAGE_SIZE = 100
# Fewer matches than this, and the words no title contains are checked for typos.
FEW_MATCHES = 3


class Facet(NamedTuple):
    slug: str
    name: str
    count: int  # type: ignore[assignment]  # the API's field name; shadows tuple.count


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
    # The query whose results these are, when typos in the typed one were corrected.
    corrected_query: str | None = None

    @property
    def object_list(self) -> list[EventPost]:
        return self.events

    @property
    def num_pages(self) -> int:
        """The last page that has results: only the first CANDIDATE_LIMIT matches are paged."""
        return max(1, math.ceil(min(self.total, plan.CANDIDATE_LIMIT) / self.page_size))

    @property
    def is_past_end(self) -> bool:
        """The requested page lies past the last one; it holds no results."""
        return self.number > self.num_pages

    @property
    def paging_is_capped(self) -> bool:
        """More matches exist than the pages reach (say "200+" and how to narrow)."""
        return self.total_is_capped and self.number >= self.num_pages

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


def event_search(
    params: SearchParams,
    *,
    page: int = 1,
    page_size: int = 20,
    now: dt.datetime | None = None,
) -> SearchResults:
    """One page of published events matching `params`, with total, facets and spelling help.

    Campus synonyms widen the words that have them ("bball" also finds "basketball").
    Typos are mixed in: when the query as typed has fewer than FEW_MATCHES matches and some
    of its words are in no upcoming event, those words are replaced by the closest words
    of upcoming events (spelling_suggestion), and when that finds more, those results are
    the answer, with `corrected_query` saying so; `params.exact` turns this off. Otherwise a
    correction is offered as `did_you_mean` when nothing matched.

    Two SQL statements whatever the page size (the plan facts, then the search); a query
    with few matches adds one for the vocabulary and, with a correction, two for its search.
    A search asked again while nothing it reads has changed is answered from result_cache:
    one Redis round trip and one statement for the page's rows (none for an empty page).
    """
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    page = max(page, 1)
    # A caller that fixes the clock gets a computed answer; result_cache follows the live one.
    cache_key = None
    generation = None
    if now is None and result_cache.enabled():
        cache_key = result_cache.entry_key(params, page=page, page_size=page_size)
        hit, generation = result_cache.lookup(cache_key)
        results_from_cache = _results_from_hit(hit) if hit is not None else None
        if results_from_cache is not None:
            _count_search(results_from_cache)
            return results_from_cache
    results = _search_computed(params, page=page, page_size=page_size, now=now or timezone.now())
    if cache_key is not None:
        result_cache.store(cache_key, generation=generation, hit=_hit_from_results(results))
    _count_search(results)
    return results


def _search_computed(
    params: SearchParams, *, page: int, page_size: int, now: dt.datetime
) -> SearchResults:
    results = _search_once(params, page=page, page_size=page_size, now=now)
    if params.q and results.total < FEW_MATCHES:
        suggestion = spelling_suggestion(params.q)
        if suggestion and not params.exact:
            corrected = _search_once(
                dataclasses.replace(params, q=suggestion),
                page=page,
                page_size=page_size,
                now=now,
            )
            if corrected.total > results.total:
                results = dataclasses.replace(corrected, corrected_query=suggestion)
                suggestion = None
        if suggestion and results.total == 0:
            results = dataclasses.replace(results, did_you_mean=suggestion)
    return results


def _count_search(results: SearchResults) -> None:
    metrics.increment(
        "searches",
        tags={
            "results": "corrected"
            if results.corrected_query
            else "some"
            if results.total
            else "none"
        },
    )


def _hit_from_results(results: SearchResults) -> result_cache.PageHit:
    extras = tuple(
        (
            event.pk,
            getattr(event, "rank", None),
            getattr(event, "distance_km", None),
            getattr(event, "headline_title", None),
            getattr(event, "headline_description", None),
        )
        for event in results.events
    )
    return result_cache.PageHit(results=dataclasses.replace(results, events=[]), extras=extras)


def _results_from_hit(hit: result_cache.PageHit) -> SearchResults | None:
    """The cached page with its rows read now; None when a row is gone (compute instead)."""
    ids = [extra[0] for extra in hit.extras]
    events_by_id = _events_by_id(ids) if ids else {}
    if len(events_by_id) != len(ids):
        return None
    params = hit.results.params
    events = []
    for event_id, rank, distance_km, headline_title, headline_description in hit.extras:
        event = events_by_id[event_id]
        if params.q:
            event.rank = rank  # type: ignore[attr-defined]
            event.headline_title = headline_title  # type: ignore[attr-defined]
            event.headline_description = headline_description  # type: ignore[attr-defined]
        if params.near is not None:
            event.distance_km = distance_km  # type: ignore[attr-defined]
        events.append(event)
    return dataclasses.replace(hit.results, events=events)


def _search_once(
    params: SearchParams, *, page: int, page_size: int, now: dt.datetime
) -> SearchResults:
    if params.q:
        params = dataclasses.replace(params, synonyms=query_synonyms(params.q))
    # A page past the candidates is read as an empty page (never another page's rows);
    # SearchResults.is_past_end tells the caller, who shows the last page or a 404.
    offset = min((page - 1) * page_size, plan.CANDIDATE_LIMIT + 1)
    statement = _SearchStatement(params, now=now, limit=page_size, offset=offset)

    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall()
    total_rows, facet_rows_json = rows[0][0], rows[0][1] or []
    facets = [Facet(slug, name, count) for slug, name, count in facet_rows_json]
    facet_rows = sum(facet.count for facet in facets)
    page_events = [statement.event_from_row(row) for row in rows if row[_EVENT_ID] is not None]
    if page > max(1, math.ceil(min(total_rows, plan.CANDIDATE_LIMIT) / page_size)):
        page_events = []  # the one row past the cap that `matched` holds is not a page
    return SearchResults(
        events=page_events,
        total=min(total_rows, plan.CANDIDATE_LIMIT),
        total_is_capped=total_rows > plan.CANDIDATE_LIMIT or statement.window_may_hide_matches,
        facets=facets,
        facets_are_capped=facet_rows > plan.CANDIDATE_LIMIT or statement.window_may_hide_matches,
        did_you_mean=None,
        number=page,
        page_size=page_size,
        params=params,
    )


# The leading sort term of SearchParams.needs: the event offers every need (array contains).
_NEEDS_FIRST = "access_features @> %s::varchar[] DESC, "
_EVENT_FIELDS = [f for f in EventPost._meta.concrete_fields if f.name != "search_vector"]
_CATEGORY_FIELDS = list(EventCategory._meta.concrete_fields)
# Positions in a result row: total, facets, rank, distance_km, two headlines, then the columns.
_EVENT_ID = 6
_CATEGORY_START = _EVENT_ID + len(_EVENT_FIELDS)


def _events_by_id(ids: list[int]) -> dict[int, EventPost]:
    """The events with these ids and their categories, as the search statement reads them."""
    event_columns = ", ".join(f'event."{f.column}"' for f in _EVENT_FIELDS)
    category_columns = ", ".join(f'category."{f.column}"' for f in _CATEGORY_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {event_columns}, {category_columns} FROM events_eventpost AS event"  # noqa: S608 - constants only # nosec B608
            " JOIN events_eventcategory AS category ON category.id = event.category_id"
            " WHERE event.id = ANY(%s)",
            (ids,),
        )
        rows = cursor.fetchall()
    found = {}
    for row in rows:
        event = _event_from_values(row[: len(_EVENT_FIELDS)], row[len(_EVENT_FIELDS) :])
        found[event.pk] = event
    return found


_EVENT_NAMES = [f.attname for f in _EVENT_FIELDS]
_CATEGORY_NAMES = [f.attname for f in _CATEGORY_FIELDS]


def _instance_from_values(model: type[Model], names: list[str], values: tuple) -> Model:
    # Model.__init__ per field is about half of turning a page's rows into events (0.25 ms
    # of a search); skipping it by filling __dict__ was measured and left out: it would
    # depend on Django's internals for a few percent of a search.
    return model.from_db(connection.alias, names, values)


def _event_from_values(event_values: tuple, category_values: tuple) -> EventPost:
    event = cast(EventPost, _instance_from_values(EventPost, _EVENT_NAMES, event_values))
    event.category = cast(
        EventCategory, _instance_from_values(EventCategory, _CATEGORY_NAMES, category_values)
    )
    return event


class _SearchStatement:
    """The single statement behind event_search; user input only ever travels as parameters.

    The SQL text is assembled from constants and from SQL Django compiled for the filters,
    which carries its own placeholders; `params` lists every value in textual order.
    """

    def __init__(self, params: SearchParams, *, now: dt.datetime, limit: int, offset: int):
        self.search = params
        self.sort = params.sort
        if (self.sort == "distance" and params.near is None) or (
            self.sort == "relevance" and not params.q
        ):
            self.sort = "start"
        self.descending = " DESC" if params.include_past else ""
        box = None
        if params.near is not None and params.radius_km is not None:
            box = bounding_box(params.near, params.radius_km)
        self.facts = plan.search_facts(query=tsquery_sql(params) if params.q else None, box=box)
        self.has_text = bool(params.q) and not self.facts.query_is_empty
        self.strategy = self._strategy(has_box=box is not None)
        # A walk that finds fewer matches than the cap may have stopped at its scan window.
        self.window_may_hide_matches = (
            self.strategy == "walk"
            and (self.has_text or box is not None)
            and self.facts.event_rows > plan.WALK_WINDOW
        )
        self.ranked_in_walk = self.sort == "relevance" and self.strategy == "walk" and self.has_text
        # Events offering all the searcher's access needs first (SearchParams.needs): one
        # leading sort term of the page, none when the filters already require every need.
        self.needs = [] if set(params.needs) <= set(params.access) else list(params.needs)
        # Every value is appended in the order its placeholder appears in the text.
        ctes, facet_source, sql_params = self._candidate_ctes(now=now)
        page_cte, order, page_params = self._page_cte(limit=limit, offset=offset)
        display_sql, display_params = self._display_columns()
        order_params: list = []
        if self.needs:
            order = f"event.{_NEEDS_FIRST}{order}"
            order_params = [self.needs]
        self.sql = self._statement(
            ctes=[*ctes, page_cte], facet_source=facet_source, display_sql=display_sql, order=order
        )
        self.params = (
            *sql_params,
            *page_params,
            *display_params,
            list(params.categories),
            *order_params,
        )

    def _strategy(self, *, has_box: bool) -> plan.Strategy:
        facts = self.facts

        def prefers_index(estimated_rows: float | None, index_rows: float | None = None) -> bool:
            return plan.prefers_index(
                estimated_rows,
                event_rows=facts.event_rows,
                wanted=plan.CANDIDATE_LIMIT,
                window=plan.WALK_WINDOW,
                index_rows=index_rows,
            )

        selective = (
            self.has_text and prefers_index(facts.estimated_matches, index_rows=facts.index_rows)
        ) or (has_box and prefers_index(facts.box_rows))
        return "index" if selective else "walk"

    def _candidate_ctes(self, *, now: dt.datetime) -> tuple[list[str], str, list]:
        """`matched` (the capped candidates) and, with a category filter, the facets' own."""
        params = self.search
        matched_columns = ["id", "category_id", "starts_at"]
        if self.ranked_in_walk:
            matched_columns.append("rank")
        elif self.sort == "relevance":
            matched_columns.append("search_vector")
        elif self.sort == "distance" and params.near is not None:
            matched_columns.append("distance_m")
        if self.needs:
            matched_columns.append("access_features")
        facts, strategy = self.facts, self.strategy
        matched_sql, sql_params = candidates_sql(
            params, now=now, facts=facts, strategy=strategy, columns=matched_columns
        )
        ctes = [f"matched AS MATERIALIZED ({matched_sql})"]
        if not params.categories:
            return ctes, "matched", list(sql_params)
        facet_sql, facet_params = candidates_sql(
            params,
            now=now,
            facts=facts,
            strategy=strategy,
            columns=["id", "category_id", "starts_at"],
            with_categories=False,
        )
        ctes.append(f"facet_source AS MATERIALIZED ({facet_sql})")
        return ctes, "facet_source", [*sql_params, *facet_params]

    def _page_cte(self, *, limit: int, offset: int) -> tuple[str, str, list]:
        """The page's ids in the requested order: (CTE, outer ORDER BY, parameters)."""
        descending = self.descending
        # matched holds one extra row, only to tell whether the cap was reached.
        candidates = (
            f"(SELECT * FROM matched ORDER BY starts_at{descending}, id{descending}"  # noqa: S608 - values are parameters # nosec B608
            " LIMIT %s) AS candidate"
        )
        needs_first, needs = (_NEEDS_FIRST, [self.needs]) if self.needs else ("", [])
        by_key = f" ORDER BY {needs_first}sort_key DESC, starts_at, id LIMIT %s OFFSET %s)"
        if self.ranked_in_walk:
            return (
                f"page AS (SELECT id, rank AS sort_key FROM {candidates}{by_key}",  # noqa: S608 - values are parameters # nosec B608
                "page.sort_key DESC, event.starts_at, event.id",
                [plan.CANDIDATE_LIMIT, *needs, limit, offset],
            )
        if self.sort == "relevance":
            query_sql, query_params = tsquery_sql(self.search)
            return (
                f"page AS (SELECT id, ts_rank(%s::real[], search_vector, {query_sql})"  # noqa: S608 - values are parameters # nosec B608
                f" AS sort_key FROM {candidates}{by_key}",
                "page.sort_key DESC, event.starts_at, event.id",
                [RANK_WEIGHTS, *query_params, plan.CANDIDATE_LIMIT, *needs, limit, offset],
            )
        if self.sort == "distance" and self.search.near is not None:
            return (
                f"page AS (SELECT id, distance_m AS sort_key FROM {candidates}"  # noqa: S608 - values are parameters # nosec B608
                f" ORDER BY {needs_first}sort_key, starts_at, id LIMIT %s OFFSET %s)",
                "page.sort_key, event.starts_at, event.id",
                [plan.CANDIDATE_LIMIT, *needs, limit, offset],
            )
        # Reordered, matched's extra row could move up into a page: read only the capped ones.
        source, source_params = (candidates, [plan.CANDIDATE_LIMIT]) if needs else ("matched", [])
        return (
            f"page AS (SELECT id, NULL::float8 AS sort_key FROM {source}"  # noqa: S608 - values are parameters # nosec B608
            f" ORDER BY {needs_first}starts_at{descending}, id{descending} LIMIT %s OFFSET %s)",
            f"event.starts_at{descending}, event.id{descending}",
            [*source_params, *needs, limit, offset],
        )

    def _display_columns(self) -> tuple[str, list]:
        """Columns in row order: rank, distance_km, headline_title, headline_description."""
        params = self.search
        display: list[tuple[str, list]] = [("NULL::real", []), ("NULL::float8", [])]
        display += [("NULL::text", []), ("NULL::text", [])]
        query_sql, query_params = tsquery_sql(params)
        if params.q:
            # The relevance order has ranked the page already; other orders rank it here.
            display[0] = ("page.sort_key::real", [])
            if self.sort != "relevance":
                display[0] = (
                    f"ts_rank(%s::real[], event.search_vector, {query_sql})",
                    [RANK_WEIGHTS, *query_params],
                )
            for position, (text_sql, text_params), options in (
                (2, ("event.title", []), TITLE_HEADLINE_OPTIONS),
                (3, description_excerpt(params), DESCRIPTION_HEADLINE_OPTIONS),
            ):
                # Marker characters typed into the text are dropped, so every marker is ours.
                display[position] = (
                    f"ts_headline(%s::regconfig, replace({text_sql}, %s, ''), {query_sql}, %s)",
                    [SEARCH_CONFIG, *text_params, MARKER_CHARACTER, *query_params, options],
                )
        if params.near is not None:
            display[1] = (
                "sec_to_gc(cube_distance(event_geo_point(event.latitude, event.longitude),"
                " event_geo_point(%s, %s))) / 1000.0",
                list(params.near),
            )
        return ", ".join(sql for sql, _ in display), [v for _, values in display for v in values]

    @staticmethod
    def _statement(*, ctes: list[str], facet_source: str, display_sql: str, order: str) -> str:
        """The whole statement: the total and facets on one row, joined to the page's rows."""
        event_columns = ", ".join(f'event."{f.column}"' for f in _EVENT_FIELDS)
        category_columns = ", ".join(f'category."{f.column}"' for f in _CATEGORY_FIELDS)
        # Only constants and Django-compiled SQL are formatted in; values are parameters.
        return f"""
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

    def event_from_row(self, row: tuple) -> EventPost:
        event = _event_from_values(row[_EVENT_ID:_CATEGORY_START], row[_CATEGORY_START:])
        if self.search.q:
            event.rank = row[2]  # type: ignore[attr-defined]
            event.headline_title = row[4]  # type: ignore[attr-defined]
            event.headline_description = row[5]  # type: ignore[attr-defined]
        if self.search.near is not None:
            event.distance_km = row[3]  # type: ignore[attr-defined]
        return event
