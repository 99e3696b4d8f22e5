"""Week and month calendars of events, drawn on the server (no JavaScript).

Days are campus days (core.clock): an event is on the day of its start in St. Louis, so an
event at 11:30 PM on a Saturday is on that Saturday whatever UTC says, and a week across a
daylight-saving change still runs from one local midnight to the next (167 or 169 hours).
Weeks start on Sunday, as on a US campus calendar.
"""

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from core import clock
from core.errors import UserError

VIEWS = ("week", "month")
# Years a calendar may show: a typed date outside them is a 400, not an overflow.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class CalendarParamsError(UserError):
    code = "invalid_calendar"
    http_status = 400
    default_message = "This calendar page does not exist."


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    events: list = field(default_factory=list)
    in_month: bool = True
    is_today: bool = False


@dataclass(frozen=True)
class CalendarPage:
    view: str  # "week" or "month"
    anchor: dt.date
    title: str
    starts_at: dt.datetime  # first instant shown (aware, campus midnight)
    ends_at: dt.datetime  # first instant after
    weeks: list[list[CalendarDay]]
    previous: dt.date
    next: dt.date
    today: dt.date

    weekday_names = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

    @property
    def days(self) -> list[CalendarDay]:
        return [day for week in self.weeks for day in week]

    @property
    def event_count(self) -> int:
        return sum(len(day.events) for day in self.days if day.in_month)


def calendar_params(view: str | None, date: str | None, *, today: dt.date) -> tuple[str, dt.date]:
    """The view ("week" by default) and the day it shows, from the query string."""
    view = view or "week"
    if view not in VIEWS:
        raise CalendarParamsError("Choose the week or the month view.")
    if not date:
        return view, today
    try:
        anchor = dt.date.fromisoformat(date[:10])
    except ValueError as error:
        raise CalendarParamsError("Give the date as YYYY-MM-DD.") from error
    if not FIRST_YEAR <= anchor.year <= LAST_YEAR:
        raise CalendarParamsError(f"Choose a date between {FIRST_YEAR} and {LAST_YEAR}.")
    return view, anchor


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)  # back to Sunday


def calendar_window(view: str, anchor: dt.date) -> tuple[dt.date, dt.date]:
    """The first day shown and the day after the last: a Sunday-to-Saturday week, or the
    whole weeks that hold the month."""
    if view == "week":
        first = _week_start(anchor)
        return first, first + dt.timedelta(days=7)
    weeks = calendar.Calendar(firstweekday=6).monthdatescalendar(anchor.year, anchor.month)
    return weeks[0][0], weeks[-1][-1] + dt.timedelta(days=1)


def calendar_page(
    view: str, anchor: dt.date, events: Iterable, *, today: dt.date | None = None
) -> CalendarPage:
    """The grid for `view` around `anchor`, each event (anything with `starts_at`) on its
    campus day, in start order."""
    today = today or clock.local_date()
    first, after = calendar_window(view, anchor)
    by_day: dict[dt.date, list] = defaultdict(list)
    for event in sorted(events, key=lambda event: event.starts_at):
        by_day[clock.local(event.starts_at).date()].append(event)
    days = []
    day = first
    while day < after:
        in_month = view == "week" or day.month == anchor.month
        days.append(
            CalendarDay(date=day, events=by_day[day], in_month=in_month, is_today=day == today)
        )
        day += dt.timedelta(days=1)
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    if view == "week":
        last = after - dt.timedelta(days=1)
        title = f"Week of {first:%B} {first.day}, {first.year}"
        if last.year != first.year:
            title = f"{first:%b} {first.day}, {first.year} to {last:%b} {last.day}, {last.year}"
        previous, following = first - dt.timedelta(days=7), after
    else:
        title = f"{anchor:%B %Y}"
        month_start = anchor.replace(day=1)
        previous = (month_start - dt.timedelta(days=1)).replace(day=1)
        following = (month_start + dt.timedelta(days=32)).replace(day=1)
    return CalendarPage(
        view=view,
        anchor=anchor,
        title=title,
        starts_at=clock.midnight(first),
        ends_at=clock.midnight(after),
        weeks=weeks,
        previous=previous,
        next=following,
        today=today,
    )
