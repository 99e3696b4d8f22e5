import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

CHICAGO = ZoneInfo("America/Chicago")


def _render(source: str, value: dt.datetime) -> str:
    return Template("{% load event_tags %}" + source).render(Context({"value": value}))


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 11, 26, 20, 30, tzinfo=dt.UTC),  # 2:30 PM CST
        dt.datetime(2026, 7, 4, 4, 5, tzinfo=dt.UTC),  # 11:05 PM CDT the day before
        dt.datetime(2027, 3, 14, 8, 0, tzinfo=dt.UTC),  # 3:00 AM CDT, just after the change
        dt.datetime(2027, 1, 1, 6, 0, tzinfo=dt.UTC),  # midnight: 12:00 AM
        dt.datetime(2027, 5, 9, 17, 0, tzinfo=dt.UTC),  # noon: 12:00 PM
    ],
)
def test_event_time_matches_the_date_filter_it_replaces(value):
    expected = _render(
        "<time datetime=\"{{ value|date:'c' }}\">{{ value|date:'D, M j · g:i A T' }}</time>", value
    )
    assert _render("{{ value|event_time }}", value) == expected


def test_event_time_names_the_zone_in_the_repeated_hour():
    # 1:30 AM on the first Sunday of November happens twice; the date filter prints no zone.
    first = dt.datetime(2027, 11, 7, 6, 30, tzinfo=dt.UTC).astimezone(CHICAGO)
    assert _render("{{ value|event_time }}", first) == (
        '<time datetime="2027-11-07T01:30:00-05:00">Sun, Nov 7 · 1:30 AM CDT</time>'
    )


def test_event_time_is_a_time_element_in_central_time():
    html = _render("{{ value|event_time }}", dt.datetime(2026, 11, 26, 20, 30, tzinfo=dt.UTC))
    assert html == '<time datetime="2026-11-26T14:30:00-06:00">Thu, Nov 26 · 2:30 PM CST</time>'
