"""Event search on PostgreSQL full-text search, one module per step.

    params = parse_search_params(request.GET)      # params: raises SearchParamsError
    params = searcher_needs(params, request.user)  # params: their access needs first
    results = event_search(params, page=page_number)  # plan + sql + query
    titles = event_suggest(prefix)                  # suggest

| module    | holds                                                                   |
|-----------|-------------------------------------------------------------------------|
| params    | raw input → SearchParams, or SearchParamsError naming each bad field    |
| plan      | the bounded-work limits and the index-or-walk choice                    |
| sql       | filters, distances, the capped candidate set, headline SQL              |
| query     | event_search: the one statement, results, facets                        |
| result_cache | what a search computed per page, in Redis, stale on any event change  |
| suggest   | prefix suggestions while typing, "did you mean", its vocabulary         |
| prefix_index | suggestions' Redis prefix index, rebuilt from PostgreSQL (the fallback) |
| synonyms  | campus synonyms (cached) and tsquery_sql, the one tsquery builder        |
| highlight | the headline markers and their HTML / JSON rendering                    |
| ways_out  | an empty result's ways out: drop a filter, widen the radius, browse     |
"""

from events.places import CAMPUS_PLACES

from .highlight import (
    HIGHLIGHT_START,
    HIGHLIGHT_STOP,
    format_count,
    highlight_segments,
    mark_highlights,
)
from .params import (
    PageOutOfRange,
    SearchParams,
    SearchParamsError,
    parse_page_number,
    parse_search_params,
    searcher_needs,
)
from .prefix_index import prefix_index_mark_changed, prefix_index_rebuild, prefix_index_refresh
from .query import Facet, SearchResults, event_search
from .suggest import event_suggest, search_words_refresh, spelling_suggestion
from .ways_out import WayOut, search_ways_out

__all__ = [
    "CAMPUS_PLACES",
    "HIGHLIGHT_START",
    "HIGHLIGHT_STOP",
    "Facet",
    "PageOutOfRange",
    "SearchParams",
    "SearchParamsError",
    "SearchResults",
    "WayOut",
    "event_search",
    "event_suggest",
    "format_count",
    "highlight_segments",
    "mark_highlights",
    "parse_page_number",
    "parse_search_params",
    "prefix_index_mark_changed",
    "prefix_index_rebuild",
    "prefix_index_refresh",
    "search_ways_out",
    "search_words_refresh",
    "searcher_needs",
    "spelling_suggestion",
]
