"""The recommendation evaluation runs on a tiny fixture, so it cannot rot between real runs."""

import datetime as dt

import pytest
from django.utils import timezone

from bench import recommendation_eval
from tests.factories import (
    EventCategoryFactory,
    EventPostFactory,
    EventRegistrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_holdout_is_ranked_as_of_before_it_and_the_ranker_finds_it():
    now = timezone.now()
    chess, other = EventCategoryFactory(name="Chess"), EventCategoryFactory(name="Other")
    student = UserFactory()
    crowd = UserFactory.create_batch(3)

    def event(days: float, category) -> object:
        starts_at = now - dt.timedelta(days=days)
        return EventPostFactory(
            category=category, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2)
        )

    for days in (30, 28, 26):
        attended = event(days, chess)
        EventRegistrationFactory(
            user=student,
            event=attended,
            registered_at=attended.starts_at - dt.timedelta(days=2),
            checked_in_at=attended.starts_at,
        )
    held_out = event(10, chess)
    registered_at = held_out.starts_at - dt.timedelta(days=2)
    EventRegistrationFactory(
        user=student, event=held_out, registered_at=registered_at, checked_in_at=held_out.starts_at
    )
    # Popular and sooner, but not what this student likes; its crowd registered in time.
    for index in range(11):
        decoy = event(11.9 - index / 24, other)
        for person in crowd:
            EventRegistrationFactory(
                user=person, event=decoy, registered_at=registered_at - dt.timedelta(hours=1)
            )

    cases = recommendation_eval.cases_build(holdout=1, min_attended=3, limit=None)
    assert [(case.user_id, set(case.held_out), case.as_of) for case in cases] == [
        (student.pk, {held_out.pk}, registered_at)
    ]
    tallies = recommendation_eval.evaluate(cases)
    assert tallies["ranker"].hits == 1
    assert tallies["most popular"].hits == 0
    assert tallies["soonest"].hits == 0
    table = recommendation_eval.table(tallies, students=len(cases))
    assert "| ranker | 1.000 (1) |" in table
