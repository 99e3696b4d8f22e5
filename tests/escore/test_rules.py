import pytest
from django.db.models import Sum

from escore import rules, services
from escore.leaderboard import Leaderboard
from escore.models import ScoreEntry
from tests.factories import EventCategoryFactory, EventRegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db


def total(user) -> int:
    return ScoreEntry.objects.filter(user=user).aggregate(t=Sum("points"))["t"] or 0


def net_bonus(user) -> dict[int, int]:
    return dict(
        ScoreEntry.objects.filter(user=user, reason__startswith="new_category")
        .values_list("event_id")
        .annotate(net=Sum("points"))
        .order_by()
    )


def reasons(user) -> list[tuple[str, int, int]]:
    return sorted(
        ScoreEntry.objects.filter(user=user).values_list("reason", "points", "generation")
    )


def test_first_check_in_in_a_category_earns_attendance_and_breadth_bonus(attended):
    student = UserFactory()
    registration = attended(student)

    created = services.score_attendance_sync(registration_id=registration.pk)

    assert {(e.reason, e.points) for e in created} == {("attended", 10), ("new_category", 5)}
    assert total(student) == 15


def test_second_event_in_the_same_category_earns_no_second_bonus(attended):
    student = UserFactory()
    music = EventCategoryFactory()
    for registration in (attended(student, category=music), attended(student, category=music)):
        services.score_attendance_sync(registration_id=registration.pk)

    assert total(student) == 10 + 5 + 10
    assert ScoreEntry.objects.filter(user=student, reason="new_category").count() == 1


def test_a_new_category_earns_another_bonus(attended):
    student = UserFactory()
    for registration in (attended(student), attended(student)):
        services.score_attendance_sync(registration_id=registration.pk)

    assert total(student) == 2 * (10 + 5)


def test_not_checked_in_earns_nothing(past_event):
    registration = EventRegistrationFactory(event=past_event())

    assert services.score_attendance_sync(registration_id=registration.pk) == []
    assert not ScoreEntry.objects.exists()


def test_the_same_sync_run_three_times_adds_one_award(attended):
    student = UserFactory()
    registration = attended(student)

    for _ in range(3):
        services.score_attendance_sync(registration_id=registration.pk)

    assert ScoreEntry.objects.filter(user=student).count() == 2
    assert total(student) == 15
    assert Leaderboard.for_scope("all").standing(student.pk).score == 15


def test_undo_reverses_with_compensating_entries_and_check_in_again_re_awards(attended, check_in):
    student = UserFactory()
    registration = attended(student)
    services.score_attendance_sync(registration_id=registration.pk)

    check_in(registration, checked_in=False)
    services.score_attendance_sync(registration_id=registration.pk)
    services.score_attendance_sync(registration_id=registration.pk)
    assert total(student) == 0
    assert reasons(student) == [
        ("attended", 10, 1),
        ("attended_reversed", -10, 1),
        ("new_category", 5, 1),
        ("new_category_reversed", -5, 1),
    ]

    check_in(registration)
    services.score_attendance_sync(registration_id=registration.pk)
    services.score_attendance_sync(registration_id=registration.pk)
    assert total(student) == 15
    assert ("attended", 10, 2) in reasons(student)
    assert ("new_category", 5, 2) in reasons(student)
    assert ScoreEntry.objects.filter(user=student).count() == 6


def test_undoing_the_bonus_event_moves_the_bonus_to_the_next_event(attended, check_in):
    student = UserFactory()
    music = EventCategoryFactory()
    first = attended(student, category=music)
    second = attended(student, category=music, starts_at=first.event.starts_at.replace(year=2099))
    # The later event's task runs first: the bonus lands there, then moves to the earlier one.
    for registration in (second, first):
        services.score_attendance_sync(registration_id=registration.pk)
    assert net_bonus(student) == {first.event_id: 5, second.event_id: 0}
    assert total(student) == 25

    check_in(first, checked_in=False)
    services.score_attendance_sync(registration_id=first.pk)

    assert net_bonus(student) == {first.event_id: 0, second.event_id: 5}
    assert total(student) == 15


@pytest.mark.parametrize(
    ("attendees", "points"), [(0, 0), (2, 0), (3, 23), (10, 30), (20, 40), (35, 40)]
)
def test_organizer_points(attendees, points):
    assert rules.organizer_points(checked_in_attendees=attendees) == points


def test_sync_of_a_registration_that_no_longer_exists_does_nothing():
    assert services.score_attendance_sync(registration_id=987654321) == []
