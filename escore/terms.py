"""Academic terms, computed from dates in Central time (WashU's clock), never stored by hand.

| term   | months (Central time) |
|--------|-----------------------|
| Spring | January to May        |
| Summer | June to July          |
| Fall   | August to December    |

The term of a ledger entry is the term of its event's start; an entry without an event (a
staff adjustment) belongs to the term of its `created_at`. So points for a Fall event
checked in late, in January, still count for Fall.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

CAMPUS_ZONE = ZoneInfo("America/Chicago")

# (name, first month, first month of the next term); the last term ends with the year.
_TERMS = (("spring", 1, 6), ("summer", 6, 8), ("fall", 8, 13))


@dataclass(frozen=True)
class Term:
    season: str  # "spring", "summer" or "fall"
    year: int

    @property
    def key(self) -> str:
        """Stable identifier, e.g. "2026-fall" (used in Redis keys and the API)."""
        return f"{self.year}-{self.season}"

    @property
    def name(self) -> str:
        return f"{self.season.capitalize()} {self.year}"

    @property
    def starts_at(self) -> dt.datetime:
        """First instant of the term (aware, midnight Central time)."""
        first_month = next(first for season, first, _ in _TERMS if season == self.season)
        return dt.datetime(self.year, first_month, 1, tzinfo=CAMPUS_ZONE)

    @property
    def ends_at(self) -> dt.datetime:
        """First instant after the term (exclusive bound)."""
        next_month = next(end for season, _, end in _TERMS if season == self.season)
        if next_month == 13:
            return dt.datetime(self.year + 1, 1, 1, tzinfo=CAMPUS_ZONE)
        return dt.datetime(self.year, next_month, 1, tzinfo=CAMPUS_ZONE)

    def __str__(self) -> str:
        return self.name


def term_of(moment: dt.datetime) -> Term:
    """The term an aware datetime falls in, judged by the calendar date in St. Louis."""
    local = moment.astimezone(CAMPUS_ZONE)
    for season, first_month, next_month in _TERMS:
        if first_month <= local.month < next_month:
            return Term(season=season, year=local.year)
    raise AssertionError(f"month {local.month} is in no term")  # pragma: no cover


def term_current(*, now: dt.datetime | None = None) -> Term:
    return term_of(now or timezone.now())
