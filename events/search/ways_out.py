"""Ways out of an empty result: the same search with one restriction less, for page and API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlencode

from .params import MAX_RADIUS_KM, SearchParams

# Query-string keys a way out may carry over; anything else (page, page_size) is dropped.
_SEARCH_KEYS = (
    "q",
    "category",
    "from",
    "to",
    "near",
    "lat",
    "lng",
    "radius_km",
    "sort",
    "past",
    "exact",
)
_PLACE_KEYS = ("near", "lat", "lng", "radius_km")


class WayOut(NamedTuple):
    label: str
    query: dict[str, list[str]]

    def query_string(self) -> str:
        return "?" + urlencode(self.query, doseq=True) if self.query else ""


def _raw_query(data: Mapping) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for key in _SEARCH_KEYS:
        values = data.getlist(key) if hasattr(data, "getlist") else data.get(key)
        if isinstance(values, str):
            values = [values]
        values = [value for value in values or [] if value != ""]
        if values:
            query[key] = list(values)
    return query


def _without(query: dict[str, list[str]], *keys: str, **changes: list[str]) -> dict[str, list[str]]:
    changed = {key: values for key, values in query.items() if key not in keys}
    changed.update({key: values for key, values in changes.items() if values})
    if "near" not in changed and "lat" not in changed and changed.get("sort") == ["distance"]:
        del changed["sort"]  # a distance order needs a place
    return changed


def search_ways_out(
    data: Mapping, params: SearchParams, *, category_names: Mapping[str, str]
) -> list[WayOut]:
    """What a student can do when nothing matches: drop each filter, widen, browse.

    `data` is the raw query (a QueryDict or a mapping); each way out is that query with one
    change, so a link keeps everything else the student chose.
    """
    query = _raw_query(data)
    ways: list[WayOut] = []
    for slug in params.categories:
        rest = [other for other in query.get("category", []) if other.lower() != slug]
        name = category_names.get(slug, slug)
        ways.append(
            WayOut(f"Remove the category “{name}”", _without(query, "category", category=rest))
        )
    if params.date_from or params.date_to:
        ways.append(WayOut("Any date", _without(query, "from", "to")))
    if params.near is not None and params.radius_km is not None:
        if params.radius_km < MAX_RADIUS_KM:
            wider = min(MAX_RADIUS_KM, max(params.radius_km * 4, 1.0))
            ways.append(
                WayOut(
                    f"Widen the radius to {wider:g} km", _without(query, radius_km=[f"{wider:g}"])
                )
            )
        ways.append(WayOut("Anywhere on campus", _without(query, *_PLACE_KEYS)))
    if params.q and not params.include_past:
        ways.append(WayOut("Include past events", _without(query, past=["1"])))
    if params.q:
        for slug in params.categories:
            name = category_names.get(slug, slug)
            ways.append(WayOut(f"All “{name}” events", {"category": [slug]}))
    ways.append(WayOut("All upcoming events", {}))
    return ways
