import pytest

from escore import services
from escore.leaderboard import Leaderboard
from escore.selectors import leaderboard_get
from tests.factories import ScoreEntryFactory, UserFactory

pytestmark = pytest.mark.django_db


def give(user, *points: int) -> None:
    """Ledger entries without an event (adjustments count for all time only)."""
    for amount in points:
        ScoreEntryFactory(user=user, event=None, reason="adjustment", points=amount)
    services.leaderboard_refresh_user(user_id=user.pk)


def test_ties_share_a_rank_standard_competition_ranking():
    alice, bob, carol, dave = UserFactory.create_batch(4)
    give(alice, 30)
    give(bob, 20)
    give(carol, 20)
    give(dave, 10)

    board = leaderboard_get(scope="all", user=dave)

    assert [(row.rank, row.score) for row in board.rows] == [(1, 30), (2, 20), (2, 20), (4, 10)]
    assert board.me.rank == 4
    assert board.me.percentile == 0
    assert Leaderboard.for_scope("all").standing(carol.pk).rank == 2


def test_hidden_student_is_not_listed_but_sees_own_rank_and_percentile():
    shown = UserFactory.create_batch(3)
    for user, points in zip(shown, (50, 30, 10), strict=True):
        give(user, points)
    hidden = UserFactory(leaderboard_visibility="hidden")
    give(hidden, 20)

    board = leaderboard_get(scope="all", user=hidden)

    assert hidden.pk not in {row.name for row in board.rows}
    assert [row.score for row in board.rows] == [50, 30, 10]
    assert board.listed_count == 3
    assert (board.me.rank, board.me.score, board.me.listed) == (3, 20, False)
    assert board.me.percentile == 33  # above 1 of the 3 listed students


def test_pseudonym_is_shown_as_chosen_and_public_name_otherwise():
    masked = UserFactory(leaderboard_visibility="pseudonym", pseudonym="Bear Fan 42")
    public = UserFactory(display_name="Ada Lovelace", leaderboard_visibility="public")
    give(masked, 10)
    give(public, 5)

    names = [row.name for row in leaderboard_get(scope="all", user=None).rows]

    assert names == ["Bear Fan 42", "Ada Lovelace"]


def test_students_appear_by_pseudonym_unless_they_opt_in_and_never_by_address():
    by_default = UserFactory(display_name="Grace Hopper", email="grace.hopper@wustl.edu")
    nameless_public = UserFactory(
        display_name="", email="alan.turing@wustl.edu", leaderboard_visibility="public"
    )
    give(by_default, 10)
    give(nameless_public, 5)

    names = [row.name for row in leaderboard_get(scope="all", user=None).rows]

    assert names == [by_default.pseudonym, nameless_public.pseudonym]
    assert all(names)
    assert not any("Grace" in name or "grace" in name or "alan" in name for name in names)


def test_hiding_later_removes_the_student_from_the_list_on_refresh():
    student = UserFactory()
    give(student, 10)
    student.leaderboard_visibility = "hidden"
    student.save()

    services.leaderboard_refresh_user(user_id=student.pk)

    assert leaderboard_get(scope="all", user=None).rows == []
    assert Leaderboard.for_scope("all").standing(student.pk).score == 10


def test_replayed_refresh_writes_the_same_absolute_total():
    student = UserFactory()
    give(student, 10, 5)
    for _ in range(3):
        services.leaderboard_refresh_user(user_id=student.pk)

    assert Leaderboard.for_scope("all").standing(student.pk).score == 15


def test_an_evicted_leaderboard_is_rebuilt_not_shown_with_one_student():
    first, second = UserFactory.create_batch(2)
    give(first, 10)
    give(second, 20)
    board = Leaderboard.for_scope("all")
    board.client.delete(board.everyone_key, board.listed_key)  # what eviction would do

    give(first, 1)  # a refresh finds the scope missing and rebuilds it whole

    assert [standing.score for standing in board.top(10)] == [20, 11]


def test_a_new_pseudonym_shows_at_once_after_the_refresh_that_follows_it():
    student = UserFactory(leaderboard_visibility="pseudonym", pseudonym="Old Name")
    give(student, 10)
    assert [row.name for row in leaderboard_get(scope="all", user=None).rows] == ["Old Name"]

    student.pseudonym = "New Name"
    student.save()
    services.leaderboard_refresh_user(user_id=student.pk)

    assert [row.name for row in leaderboard_get(scope="all", user=None).rows] == ["New Name"]


def test_names_are_read_from_redis_after_the_first_request(django_assert_num_queries):
    give(UserFactory(display_name="Ada", leaderboard_visibility="public"), 10)
    leaderboard_get(scope="all", user=None)

    with django_assert_num_queries(0):
        rows = leaderboard_get(scope="all", user=None).rows

    assert [row.name for row in rows] == ["Ada"]


def test_refresh_after_an_account_is_deleted_removes_it_from_every_board():
    leaving, staying = UserFactory.create_batch(2)
    give(leaving, 10)
    give(staying, 5)
    leaving_id = leaving.pk
    leaving.score_entries.all().delete()
    leaving.delete()

    services.leaderboard_refresh_user(user_id=leaving_id)

    assert [row.score for row in leaderboard_get(scope="all", user=None).rows] == [5]
    assert Leaderboard.for_scope("all").snapshot() == ({staying.pk: 5}, {staying.pk})
