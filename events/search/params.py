"""Search input: raw query-string values validated into SearchParams, or SearchParamsError."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from core.errors import UserError
from events.access import AccessFeature, features_ordered
from events.places import place_find
from events.selectors import category_choices

from . import plan

MAX_QUERY_LENGTH = 200
MAX_RADIUS_KM = 50.0
MAX_CATEGORIES = 20
# A page number above this is not a page anyone clicked to; below it, a page past the end
# shows the last page (web) or answers 404 (API).
MAX_PAGE_NUMBER = 10_000

EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)

SortOrder = Literal["relevance", "start", "distance"]
SORT_ORDERS: tuple[SortOrder, ...] = ("relevance", "start", "distance")

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COORDINATES_PATTERN = re.compile(r"^\s*([^,\s]+)\s*,\s*([^,\s]+)\s*$")


ATTENDANCE_CHOICES = ("", "online", "in_person")


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
    # Not from the query string: what the searcher may see listed
    # (events.permissions.listable_visibilities); public only unless the caller says more.
    visibilities: tuple[str, ...] = ("public",)
    # "online" (online or hybrid), "in_person" (in person or hybrid), or "" for both.
    attendance: str = ""
    # Only drop-in events (no registration needed).
    drop_in: bool = False
    # Only events offering every one of these accessibility features (events.access).
    access: tuple[str, ...] = ()
    # Search the words as typed: no typo correction (the "search instead for" link).
    exact: bool = False
    # List events meeting the searcher's saved access needs first (`needs_first=0`: do not).
    needs_first: bool = True
    # Not from the query string: the searcher's saved access needs (searcher_needs); events
    # offering all of them come first, each group in the order the search uses otherwise.
    # Part of the result cache's key, so one student's order is never served to another.
    needs: tuple[str, ...] = ()
    # Words of `q` with campus synonyms (synonyms.query_synonyms), set by event_search.
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        if self.sort is None:
            object.__setattr__(self, "sort", "relevance" if self.q.strip() else "start")


def _values(data: Mapping[str, str | list[str]], key: str) -> list[str]:
    if hasattr(data, "getlist"):
        raw = data.getlist(key)
    else:
        value = data.get(key)
        raw = [] if value is None else list(value) if isinstance(value, list | tuple) else [value]
    return [clean_text(str(item)) for item in raw]


def _single(data: Mapping[str, str | list[str]], key: str) -> str:
    values = _values(data, key)
    return values[-1].strip() if values else ""


def clean_text(text: str) -> str:
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
    MAX_QUERY_LENGTH are shortened, not refused. Categories are checked against the cached
    list (events.selectors.category_choices: one query when it is not cached).
    """
    errors: dict[str, list[str]] = {}

    q = _truncate_query(_single(data, "q"))

    categories = tuple(dict.fromkeys(v.strip().lower() for v in _values(data, "category") if v))
    if len(categories) > MAX_CATEGORIES:
        errors["category"] = [f"Choose at most {MAX_CATEGORIES} categories."]
    elif categories:
        known = {choice.slug for choice in category_choices()}
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
            latitude_text, longitude_text = coordinates_match.groups()
            near = _parse_coordinates(latitude_text, longitude_text, errors, "near")
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

    flag_errors: dict[str, list[str]] = {
        "past": [],
        "cancelled": [],
        "exact": [],
        "drop_in": [],
        "needs_first": [],
    }
    include_past = _parse_flag(_single(data, "past"), flag_errors["past"])
    include_cancelled = _parse_flag(_single(data, "cancelled"), flag_errors["cancelled"])
    drop_in = _parse_flag(_single(data, "drop_in"), flag_errors["drop_in"])
    exact = _parse_flag(_single(data, "exact"), flag_errors["exact"])
    needs_first_text = _single(data, "needs_first")
    needs_first = not needs_first_text or _parse_flag(needs_first_text, flag_errors["needs_first"])
    errors.update({name: msgs for name, msgs in flag_errors.items() if msgs})
    attendance = _single(data, "attendance").lower()
    if attendance not in ATTENDANCE_CHOICES:
        errors["attendance"] = ["Choose online or in_person (or leave it out)."]

    access_values = [v.strip().lower() for v in _values(data, "access") if v.strip()]
    unknown_access = [value for value in access_values if value not in AccessFeature.values]
    if unknown_access:
        errors["access"] = [
            f"Unknown accessibility feature “{unknown_access[0][:40]}”; use: "
            f"{', '.join(AccessFeature.values)}."
        ]

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
        attendance=attendance,
        drop_in=drop_in,
        access=tuple(features_ordered(access_values)),
        exact=exact,
        needs_first=needs_first,
    )


def searcher_needs(params: SearchParams, user) -> SearchParams:
    """The search with the searcher's saved access needs, so events meeting them come first.

    Unchanged for anonymous searchers, students with no needs saved and `needs_first=0`; a
    search already filtered to every need (`access`) gets no needs, since every event it lists
    meets them. Reads only the user row the request has loaded already.
    """
    needs: tuple[str, ...] = ()
    if params.needs_first and getattr(user, "is_authenticated", False):
        needs = tuple(features_ordered(getattr(user, "access_needs", None) or ()))
        if set(needs) <= set(params.access):
            needs = ()
    return params if needs == params.needs else dataclasses.replace(params, needs=needs)


def parse_page_number(value: str | None) -> int:
    """A 1-based page number from input such as `page=abc`; raises SearchParamsError."""
    if value is None or value.strip() == "":
        return 1
    text = value.strip()
    if not text.isdecimal() or len(text) > 6 or not 1 <= int(text) <= MAX_PAGE_NUMBER:
        raise SearchParamsError(
            {"page": [f"The page must be a number from 1 to {MAX_PAGE_NUMBER:,}."]}
        )
    return int(text)


class PageOutOfRange(UserError):
    """A page number past the last page of this search (the API's 404)."""

    code = "page_out_of_range"
    http_status = 404

    def __init__(self, *, page: int, last_page: int, capped: bool) -> None:
        message = f"Page {page} is past the last page ({last_page})."
        if capped:
            message += (
                f" Only the first {plan.CANDIDATE_LIMIT} matches are paged;"
                " add a word, a category or dates to see others."
            )
        super().__init__(message)
        self.fields = {"page": [message]}
