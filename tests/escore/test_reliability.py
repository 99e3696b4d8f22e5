"""Idempotent tasks, rebuild = ledger, drift repaired, and Redis down for real."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from redis import RedisError

from escore import rules, selectors, services, tasks
from escore.leaderboard import Leaderboard
from escore.models import ScoreEntry
from events.models import CHECK_IN_CLOSES_AFTER, EventRegistration
from tests.factories import EventRegistrationFactory, ScoreEntryFactory, UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"


def ledger_totals(scope: str) -> tuple[dict[int, int], set[int]]:
    totals, listed = {}, set()
    for user_id, total, is_listed in selectors.scope_totals(scope=scope):
        totals[user_id] = total
        if is_listed:
            listed.add(user_id)
    return totals, listed


def stop_redis(settings) -> dict:
    """Point the cache (and so the leaderboard's raw client) at a port nobody listens on.

    Returns the working configuration, to bring Redis back."""
    working = settings.CACHES
    caches = {name: dict(config) for name, config in working.items()}
    caches["default"]["LOCATION"] = CLOSED_PORT_URL
    settings.CACHES = caches
    return working


@pytest.fixture
def redis_down(settings):
    stop_redis(settings)


@pytest.mark.usefixtures("celery_eager")
def test_the_award_task_run_three_times_adds_one_award_and_one_total(attended):
    student = UserFactory()
    registration = attended(student)

    for _ in range(3):
        tasks.score_attendance_sync.delay(registration.pk)

    assert ScoreEntry.objects.filter(user=student, reason="attended").count() == 1
    assert Leaderboard.for_scope("all").standing(student.pk).score == 15


@pytest.mark.usefixtures("celery_eager")
def test_the_organizer_sweep_awards_once(past_event, check_in):
    event = past_event(starts_at=timezone.now() - dt.timedelta(hours=10))
    for registration in EventRegistrationFactory.create_batch(4, event=event):
        check_in(registration)
    EventRegistrationFactory.create_batch(2, event=event)  # registered, never came

    for _ in range(3):
        tasks.score_organizer_awards_due.delay()

    award = ScoreEntry.objects.get(user=event.organizer, reason="organized")
    assert award.points == 20 + 4
    assert Leaderboard.for_scope("all").standing(event.organizer_id).score == 24


def test_no_organizer_award_for_small_recent_or_cancelled_events(past_event, check_in):
    small = past_event(starts_at=timezone.now() - dt.timedelta(hours=10))
    for registration in EventRegistrationFactory.create_batch(2, event=small):
        check_in(registration)
    just_ended = past_event(starts_at=timezone.now() - dt.timedelta(hours=2, minutes=30))
    for registration in EventRegistrationFactory.create_batch(5, event=just_ended):
        check_in(registration)

    assert services.score_organizer_awards_due() == 0
    assert services.score_organizer_award(event_id=just_ended.pk) is None
    later = timezone.now() + dt.timedelta(hours=7)
    assert services.score_organizer_award(event_id=just_ended.pk, now=later).points == 25


def test_the_organizer_award_waits_until_check_in_has_closed():
    assert rules.ORGANIZER_AWARD_AFTER >= CHECK_IN_CLOSES_AFTER


def test_rebuild_equals_the_ledger_exactly_on_seeded_demo_data():
    call_command("seed_demo", events=300, students=80, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert ScoreEntry.objects.filter(reason="organized").exists()
    assert ScoreEntry.objects.filter(reason="new_category").exists()

    call_command("rebuild_leaderboards", stdout=open("/dev/null", "w"))  # noqa: SIM115

    for scope in selectors.leaderboard_scopes():
        stored, listed = Leaderboard.for_scope(scope).snapshot()
        assert (stored, listed) == ledger_totals(scope)
    everyone, _ = Leaderboard.for_scope("all").snapshot()
    assert sum(everyone.values()) == ScoreEntry.objects.aggregate(t=Sum("points"))["t"] > 0
    hidden = set(User.objects.filter(leaderboard_visibility="hidden").values_list("pk", flat=True))
    assert hidden & everyone.keys()  # hidden students have standings ...
    assert not hidden & Leaderboard.for_scope("all").snapshot()[1]  # ... but are not listed


def test_seeding_scores_is_idempotent_and_agrees_with_the_live_rules():
    call_command("seed_demo", events=200, students=60, stdout=open("/dev/null", "w"))  # noqa: SIM115
    before = ScoreEntry.objects.count()

    call_command("seed_demo", events=200, students=60, stdout=open("/dev/null", "w"))  # noqa: SIM115
    # Replaying the live sync over every seeded check-in adds nothing either.
    for registration in EventRegistration.objects.filter(checked_in_at__isnull=False)[:50]:
        services.score_attendance_sync(registration_id=registration.pk)
    assert services.score_attendance_reconcile() == 0

    assert ScoreEntry.objects.count() == before


def test_reconcile_reports_and_repairs_drift():
    alice, bob, carol = UserFactory.create_batch(3)
    for user, points in ((alice, 10), (bob, 20), (carol, 30)):
        ScoreEntryFactory(user=user, event=None, reason="adjustment", points=points)
    services.leaderboard_rebuild()
    board = Leaderboard.for_scope("all")
    board.client.zadd(board.everyone_key, {alice.pk: 999})  # wrong total
    board.client.zrem(board.everyone_key, bob.pk)  # missing
    board.client.zadd(board.listed_key, {4242: 5})  # a stray
    User.objects.filter(pk=carol.pk).update(leaderboard_visibility="hidden")  # wrong listing

    report = next(r for r in services.leaderboard_reconcile() if r.scope == "all")

    assert (report.wrong_total, report.missing, report.extra, report.wrong_listing) == (1, 1, 1, 1)
    assert board.snapshot() == ledger_totals("all")
    again = next(r for r in services.leaderboard_reconcile() if r.scope == "all")
    assert again.drift == 0


def test_reconcile_rebuilds_a_leaderboard_that_is_gone():
    student = UserFactory()
    ScoreEntryFactory(user=student, event=None, reason="adjustment", points=10)
    board = Leaderboard.for_scope("all")
    assert board.snapshot() is None

    report = next(r for r in services.leaderboard_reconcile() if r.scope == "all")

    assert report.rebuilt
    assert board.snapshot() == ({student.pk: 10}, {student.pk})
    assert board.client.ttl(board.listed_key) > 0  # every key expires (volatile-lru)


def test_redis_down_the_score_change_is_kept_and_reconcile_catches_up(settings, attended):
    student = UserFactory()
    registration = attended(student)
    working = stop_redis(settings)

    with pytest.raises(RedisError):  # the task retries this with back-off
        services.score_attendance_sync(registration_id=registration.pk)
    assert ScoreEntry.objects.filter(user=student).aggregate(t=Sum("points"))["t"] == 15

    settings.CACHES = working  # Redis is back
    services.leaderboard_reconcile()
    assert Leaderboard.for_scope("all").standing(student.pk).score == 15


def test_a_check_in_whose_task_never_ran_is_caught_up_by_the_attendance_reconcile(attended):
    student = UserFactory()
    attended(student)  # checked in, but no task was enqueued (broker down)

    assert services.score_attendance_reconcile() == 1
    assert services.score_attendance_reconcile() == 0
    assert Leaderboard.for_scope("all").standing(student.pk).score == 15


@pytest.mark.usefixtures("redis_down")
def test_redis_down_the_leaderboard_page_falls_back_to_the_database(
    client, django_assert_max_num_queries
):
    students = UserFactory.create_batch(3)
    for student, points in zip(students, (10, 20, 20), strict=True):
        ScoreEntryFactory(user=student, event=None, reason="adjustment", points=points)
    client.force_login(students[0])

    with django_assert_max_num_queries(10):
        response = client.get(reverse("escore:leaderboard"), {"term": "all"})

    assert response.status_code == 200
    assert b"may be delayed" in response.content
    board = response.context["board"]
    assert [(row.rank, row.score) for row in board.rows] == [(1, 20), (1, 20), (3, 10)]
    assert (board.me.rank, board.me.score) == (3, 10)

    api = client.get("/api/v1/leaderboard", {"term": "all"})
    assert api.status_code == 200
    assert api.json()["delayed"] is True
    assert client.get(reverse("escore:mine")).status_code == 200
