import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.clock import Term, term_current, term_of
from escore import selectors
from tests.factories import EventPostFactory, ScoreEntryFactory, UserFactory

CENTRAL = ZoneInfo("America/Chicago")
UTC = dt.UTC


@pytest.mark.parametrize(
    ("moment", "key"),
    [
        (dt.datetime(2026, 1, 1, 0, 0, tzinfo=CENTRAL), "2026-spring"),
        (dt.datetime(2026, 5, 31, 23, 59, tzinfo=CENTRAL), "2026-spring"),
        (dt.datetime(2026, 6, 1, 0, 0, tzinfo=CENTRAL), "2026-summer"),
        (dt.datetime(2026, 7, 31, 23, 59, tzinfo=CENTRAL), "2026-summer"),
        (dt.datetime(2026, 8, 1, 0, 0, tzinfo=CENTRAL), "2026-fall"),
        (dt.datetime(2026, 12, 31, 23, 59, tzinfo=CENTRAL), "2026-fall"),
        # 03:00 UTC on Aug 1 is still the evening of Jul 31 in St. Louis.
        (dt.datetime(2026, 8, 1, 3, 0, tzinfo=UTC), "2026-summer"),
        # 05:30 UTC on Jan 1 is still New Year's Eve in St. Louis.
        (dt.datetime(2027, 1, 1, 5, 30, tzinfo=UTC), "2026-fall"),
        (dt.datetime(2027, 1, 1, 6, 0, tzinfo=UTC), "2027-spring"),
    ],
)
def test_term_boundaries_are_judged_in_central_time(moment, key):
    assert term_of(moment).key == key


def test_term_bounds_are_contiguous():
    fall = Term(season="fall", year=2026)
    assert fall.name == "Fall 2026"
    assert fall.starts_at == dt.datetime(2026, 8, 1, tzinfo=CENTRAL)
    assert fall.ends_at == dt.datetime(2027, 1, 1, tzinfo=CENTRAL)
    assert term_of(fall.ends_at).key == "2027-spring"
    assert term_of(fall.ends_at - dt.timedelta(microseconds=1)) == fall


@pytest.mark.django_db
def test_an_entry_counts_in_the_term_of_its_event_not_of_when_it_was_written():
    now = dt.datetime(2027, 1, 10, 12, tzinfo=CENTRAL)
    student = UserFactory()
    fall_event = EventPostFactory(starts_at=dt.datetime(2026, 12, 10, 18, tzinfo=CENTRAL))
    spring_event = EventPostFactory(starts_at=dt.datetime(2027, 1, 8, 18, tzinfo=CENTRAL))
    ScoreEntryFactory(user=student, event=fall_event, points=10)
    ScoreEntryFactory(user=student, event=spring_event, points=7)

    spring = term_current(now=now).key
    assert spring == "2027-spring"
    assert list(selectors.scope_totals(scope=spring)) == [(student.pk, 7, True)]
    assert list(selectors.scope_totals(scope="2026-fall")) == [(student.pk, 10, True)]
    assert list(selectors.scope_totals(scope="all")) == [(student.pk, 17, True)]
