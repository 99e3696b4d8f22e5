"""The campus clock: WashU's time zone, local times and dates, and the academic terms.

The zone is settings.TIME_ZONE (America/Chicago, written there once); every "what day is it
on campus", midnight, term boundary and local time shown in text comes from here.

Academic terms are computed from dates in Central time, never stored by hand:

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

from django.utils import dateformat, timezone


def campus_zone() -> dt.tzinfo:
    """WashU's time zone: settings.TIME_ZONE."""
    return timezone.get_default_timezone()


def now() -> dt.datetime:
    """The current moment (aware, UTC)."""
    return timezone.now()


def local(moment: dt.datetime) -> dt.datetime:
    """The moment as a St. Louis wall-clock time."""
    return timezone.localtime(moment, campus_zone())


def local_date(moment: dt.datetime | None = None) -> dt.date:
    """The calendar date on campus at `moment` (now by default)."""
    return local(moment or now()).date()


def midnight(day: dt.date) -> dt.datetime:
    """The first instant of a campus calendar day."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), campus_zone())


def local_text(moment: dt.datetime, format_string: str) -> str:
    """The moment in campus time, formatted like Django's `date` filter."""
    return dateformat.format(local(moment), format_string)


def day_and_time(moment: dt.datetime) -> str:
    """ "Thursday, November 26, 2:30 PM CST", for messages that say when."""
    return local_text(moment, "l, F j, g:i A T")


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
        return midnight(dt.date(self.year, first_month, 1))

    @property
    def ends_at(self) -> dt.datetime:
        """First instant after the term (exclusive bound)."""
        next_month = next(end for season, _, end in _TERMS if season == self.season)
        if next_month == 13:
            return midnight(dt.date(self.year + 1, 1, 1))
        return midnight(dt.date(self.year, next_month, 1))

    def __str__(self) -> str:
        return self.name


def term_of(moment: dt.datetime) -> Term:
    """The term an aware datetime falls in, judged by the calendar date in St. Louis."""
    day = local_date(moment)
    for season, first_month, next_month in _TERMS:
        if first_month <= day.month < next_month:
            return Term(season=season, year=day.year)
    raise AssertionError(f"month {day.month} is in no term")  # pragma: no cover


def term_current(*, now: dt.datetime | None = None) -> Term:
    return term_of(now or timezone.now())
