"""Check-in races, run for real: threads, each on its own PostgreSQL connection.

As in test_concurrency.py, a barrier releases the threads together and `transaction=True`
lets each commit. PostgreSQL here allows 100 connections shared with other test runs, so a
hundred students are served by 20 connections, as a hundred phones are by the web workers'
pool: every check-in still happens within the same second.
"""

import datetime as dt
import random
import time
from collections import Counter

import pytest
from django.utils import timezone

from core import outbox
from escore.models import ScoreEntry
from events import services
from events.check_in_codes import code_current
from events.models import AttendanceRecord, EventPost, EventRegistration
from events.services import check_in
from tests.factories import EventPostFactory, UserFactory

from .test_concurrency import assert_counters_exact as counters_exact
from .test_concurrency import race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]

Status = EventRegistration.Status
CONNECTIONS = 20


def event_on_now(**fields) -> EventPost:
    starts_at = timezone.now() - dt.timedelta(minutes=15)
    return EventPostFactory(
        starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), **fields
    )


def seat_all(event: EventPost, students) -> list[EventRegistration]:
    registrations = EventRegistration.objects.bulk_create(
        EventRegistration(event=event, user=student, status=Status.CONFIRMED)
        for student in students
    )
    EventPost.objects.filter(pk=event.pk).update(seats_taken=len(registrations))
    return registrations


def assert_counters_exact(event: EventPost) -> None:
    counters_exact(event)
    if event.capacity is not None:
        assert event.seats_taken <= event.capacity + event.seats_beyond_capacity


def check_in_all_twice_at_once(students) -> tuple[EventPost, list[object]]:
    """Each student sends the event code twice (a double tap, a retried request), all at once."""
    event = event_on_now(capacity=None)
    seat_all(event, students)
    code = code_current(event_id=event.pk, now=timezone.now()).code
    calls = [
        lambda student=student: services.check_in_by_code(
            user=student, code=code, event_id=event.pk
        )
        for student in students * 2
    ]
    random.Random(20).shuffle(calls)
    return event, race(calls, connections=CONNECTIONS)


def assert_each_checked_in_once(event: EventPost, students, results: list[object]) -> None:
    assert [r for r in results if isinstance(r, Exception)] == []
    assert Counter(r.changed for r in results) == {True: len(students), False: len(students)}
    checked_in = EventRegistration.objects.filter(event=event, checked_in_at__isnull=False)
    assert checked_in.count() == len(students)
    assert AttendanceRecord.objects.filter(action="checked_in").count() == len(students)
    outbox.run_due()
    attended = Counter(
        ScoreEntry.objects.filter(event=event, reason="attended").values_list("user_id", flat=True)
    )
    assert attended == {student.pk: 1 for student in students}
    assert_counters_exact(event)


def test_a_hundred_students_checking_in_at_once_score_once_each():
    students = UserFactory.create_batch(100)
    event, results = check_in_all_twice_at_once(students)
    assert_each_checked_in_once(event, students, results)


def _slow_unlocked_read(**filters) -> EventRegistration | None:
    # The same read without FOR UPDATE, slow enough that a double tap overlaps itself.
    registration = (
        EventRegistration.objects.select_related("event", "user").filter(**filters).first()
    )
    time.sleep(0.02)
    return registration


def test_the_same_race_double_counts_without_the_row_lock(monkeypatch):
    """The assertions above can fail: reading the registration without locking its row lets
    both copies of a double tap check in, each with its record and E-score sync."""
    monkeypatch.setattr(check_in, "_registration_locked", _slow_unlocked_read)
    students = UserFactory.create_batch(20)
    event, results = check_in_all_twice_at_once(students)
    with pytest.raises(AssertionError):
        assert_each_checked_in_once(event, students, results)
    assert AttendanceRecord.objects.filter(action="checked_in").count() > len(students)


def test_walk_ins_racing_for_the_last_seats_never_oversell():
    event = event_on_now(capacity=10)
    seat_all(event, UserFactory.create_batch(4))
    walk_ins = UserFactory.create_batch(30)
    code = code_current(event_id=event.pk, now=timezone.now()).code

    results = race(
        [
            lambda student=student: services.check_in_by_code(user=student, code=code)
            for student in walk_ins
        ],
        connections=15,
    )

    seated = [r for r in results if isinstance(r, services.CheckInOutcome)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(seated) == 6
    assert {type(error) for error in refused} == {services.EventFull}
    assert_counters_exact(event)
    assert event.seats_taken == 10
    assert EventRegistration.objects.filter(event=event, walk_in=True).count() == 6


def _release_and_late_check_in(check_in: str, delay: str) -> tuple[object, object, dict]:
    """Race the no-show release of the one seat against its student's late check-in."""
    event = event_on_now(capacity=1, release_no_shows=True)
    late, waiting = UserFactory(), UserFactory()
    (late_registration,) = seat_all(event, [late])
    EventRegistration.objects.create(event=event, user=waiting, status=Status.WAITLISTED)
    EventPost.objects.filter(pk=event.pk).update(waitlist_count=1)
    code = code_current(event_id=event.pk, now=timezone.now()).code

    def pause(who: str) -> None:
        if delay == who:
            time.sleep(0.05)

    def release() -> object:
        pause("release")
        return services.no_shows_release(event_id=event.pk)

    def arrive() -> object:
        pause("check-in")
        if check_in == "code":
            return services.check_in_by_code(user=late, code=code, event_id=event.pk)
        return services.registration_check_in(
            registration_id=late_registration.pk, by=event.organizer
        )

    released, arrived = race([release, arrive])
    rows = {
        registration.user_id: registration
        for registration in EventRegistration.objects.filter(event=event)
    }
    assert_counters_exact(event)
    return released, arrived, {"late": rows[late.pk], "waiting": rows[waiting.pk]}


@pytest.mark.parametrize("check_in", ["code", "door"])
@pytest.mark.parametrize("delay", ["release", "check-in", "none"])
def test_release_and_a_late_check_in_one_wins_and_the_other_is_told(check_in, delay):
    released, arrived, rows = _release_and_late_check_in(check_in, delay)
    late, waiting = rows["late"], rows["waiting"]

    if isinstance(arrived, services.CheckInOutcome):
        # The check-in won: the student keeps the seat, nobody is promoted into it.
        assert arrived.changed
        assert released == []
        assert (late.status, late.checked_in_at is not None) == (Status.CONFIRMED, True)
        assert waiting.status == Status.WAITLISTED
    else:
        # The release won: the seat went to the waitlist and the late student is told why.
        assert isinstance(arrived, services.EventFull | services.SeatReleased), arrived
        assert "seat went to the waitlist" in arrived.message
        assert [registration.pk for registration in released] == [late.pk]
        assert (late.status, late.checked_in_at, late.released_at is not None) == (
            Status.CANCELLED,
            None,
            True,
        )
        assert waiting.status == Status.CONFIRMED
    if delay == "release":
        assert isinstance(arrived, services.CheckInOutcome)
    if delay == "check-in":
        assert not isinstance(arrived, services.CheckInOutcome)
