"""Races for the last seats, run for real: threads, each on its own PostgreSQL connection.

Django gives every thread its own connection, so these threads are as separate as web
workers: they meet only in the database. A barrier releases them together so that they
collide, and `transaction=True` lets each one commit for real (and its on_commit e-mails
fire). `test_race_is_lost_without_the_lock` shows that the assertions can fail: with the
event lock swapped for a plain read, the same race breaks them.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.core import mail
from django.db import connection, transaction

from core import outbox
from events import selectors, services
from events.models import EventPost, EventRegistration
from events.services import locking
from tests.factories import EventPostFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]

Status = EventRegistration.Status

CAPACITY = 3
STUDENTS = 30
# How long a racer holds the event after reading it, to widen the window in which an
# unguarded reader sees seats that another racer is about to take.
READ_TO_WRITE_DELAY = 0.03


def race(calls: list[Callable[[], object]], *, connections: int | None = None) -> list[object]:
    """Run the calls at the same moment, one thread and connection each; results in order.

    With `connections`, that many threads share the calls out (as web workers share the
    requests), for races larger than PostgreSQL's connection limit. A call that raises
    leaves its exception in its place in the results.
    """
    threads_count = connections or len(calls)
    barrier = threading.Barrier(threads_count)
    results: list[object] = [None] * len(calls)

    def run(indexes: range) -> None:
        try:
            # Connect before the barrier, so the race is about locks, not connecting.
            connection.ensure_connection()
            barrier.wait(timeout=10)
            for index in indexes:
                try:
                    results[index] = calls[index]()
                except Exception as exc:
                    results[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(range(start, len(calls), threads_count),), daemon=True)
        for start in range(threads_count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


def statuses(event: EventPost) -> Counter:
    return Counter(EventRegistration.objects.filter(event=event).values_list("status", flat=True))


def seats_by_status(event: EventPost) -> Counter:
    """Seats held or waited for, by status: each registration is the student plus guests."""
    seats: Counter = Counter()
    for status, guests in EventRegistration.objects.filter(event=event).values_list(
        "status", "guests"
    ):
        seats[status] += 1 + guests
    return seats


def assert_counters_exact(event: EventPost) -> None:
    event.refresh_from_db()
    seats = seats_by_status(event)
    assert (event.seats_taken, event.waitlist_count) == (
        seats[Status.CONFIRMED],
        seats[Status.WAITLISTED],
    )


def assert_no_oversell(event: EventPost, results: list[object]) -> None:
    """Every racer got an answer, exactly `capacity` are in, the rest wait, in a clean queue."""
    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    assert statuses(event) == {Status.CONFIRMED: CAPACITY, Status.WAITLISTED: STUDENTS - CAPACITY}
    assert_counters_exact(event)
    waiting = EventRegistration.objects.filter(event=event, status=Status.WAITLISTED)
    positions = sorted(
        selectors.registration_waitlist_position(registration=registration)
        for registration in waiting
    )
    assert positions == list(range(1, STUDENTS - CAPACITY + 1))
    # One e-mail per registration, each telling the truth about it, once a worker ran them.
    outbox.run_due()
    subjects = Counter(message.subject.split(":")[0] for message in mail.outbox)
    assert subjects == {
        "You're registered": CAPACITY,
        "You're on the waitlist": STUDENTS - CAPACITY,
    }


def register_all(event: EventPost, students) -> list[object]:
    return race(
        [
            lambda student=student: services.registration_create(event_id=event.pk, user=student)
            for student in students
        ]
    )


def test_racing_students_never_oversell():
    event = EventPostFactory(capacity=CAPACITY)
    students = UserFactory.create_batch(STUDENTS)

    results = register_all(event, students)

    assert_no_oversell(event, results)


def test_racing_parties_with_guests_never_oversell_seats():
    """The same race in seats: parties of two (a student and a guest) for seven seats.

    Three parties fit (six seats); the fourth would need two of the one seat left, so it
    and everyone after it wait, in order, and the counters count seats.
    """
    event = EventPostFactory(capacity=7, guests_max=2)
    students = UserFactory.create_batch(12)

    results = race(
        [
            lambda student=student: services.registration_create(
                event_id=event.pk, user=student, guests=1
            )
            for student in students
        ]
    )

    assert [result for result in results if isinstance(result, Exception)] == []
    assert statuses(event) == {Status.CONFIRMED: 3, Status.WAITLISTED: 9}
    assert_counters_exact(event)
    assert (event.seats_taken, event.waitlist_count) == (6, 18)


_lock_event = locking._lock_event


def _slow_locked_read(*, event_id: int) -> EventPost:
    event = _lock_event(event_id=event_id)
    time.sleep(READ_TO_WRITE_DELAY)
    return event


def _slow_unguarded_read(*, event_id: int) -> EventPost:
    # The service without its guard: the same read, minus FOR UPDATE.
    event = EventPost.objects.only(*locking._RULE_FIELDS).get(pk=event_id)
    time.sleep(READ_TO_WRITE_DELAY)
    return event


@pytest.mark.parametrize(
    "read_event",
    [
        pytest.param(_slow_locked_read, id="locked"),
        pytest.param(_slow_unguarded_read, id="without-lock"),
    ],
)
def test_race_is_lost_without_the_lock(read_event, monkeypatch):
    """The same race and assertions as above, with a slow read so the race is certain.

    Locked, the racers queue behind each other and the assertions hold. Without the lock,
    more racers than there are seats read "seats left" before anyone writes: they all try
    to take a seat, and the CHECK constraint rejects the extra ones with IntegrityError,
    i.e. students would see a 500 instead of the waitlist (and without the constraint the
    event would be oversold).
    """
    monkeypatch.setattr(locking, "_lock_event", read_event)
    # The slow read makes the last of the queued racers wait STUDENTS x the delay.
    monkeypatch.setattr(locking, "LOCK_TIMEOUT_MS", 20_000)
    event = EventPostFactory(capacity=CAPACITY)
    students = UserFactory.create_batch(STUDENTS)

    results = register_all(event, students)

    if read_event is _slow_locked_read:
        assert_no_oversell(event, results)
    else:
        with pytest.raises(AssertionError):
            assert_no_oversell(event, results)
        assert any(isinstance(result, Exception) for result in results)


def test_cancellations_racing_registrations_keep_the_queue_in_order():
    event = EventPostFactory(capacity=CAPACITY)
    holders = UserFactory.create_batch(CAPACITY)
    waiting = UserFactory.create_batch(10)
    newcomers = UserFactory.create_batch(12)
    for student in holders + waiting:
        services.registration_create(event_id=event.pk, user=student)
    outbox.run_due()
    mail.outbox.clear()
    leaving = holders + waiting[:5]

    results = race(
        [
            *(
                lambda student=student: services.registration_cancel(
                    event_id=event.pk, user=student
                )
                for student in leaving
            ),
            *(
                lambda student=student: services.registration_create(
                    event_id=event.pk, user=student
                )
                for student in newcomers
            ),
        ]
    )

    assert [result for result in results if isinstance(result, Exception)] == []
    assert_counters_exact(event)
    by_user = {r.user_id: r for r in EventRegistration.objects.filter(event=event)}
    assert {by_user[s.pk].status for s in leaving} == {Status.CANCELLED}
    # Freed seats always go to the head of the queue, which the earlier waiters never
    # leave, so whatever the interleaving the seats end with the next three in line.
    confirmed = {r.user_id for r in by_user.values() if r.status == Status.CONFIRMED}
    assert confirmed == {s.pk for s in waiting[5:8]}
    queue = EventRegistration.objects.filter(event=event, status=Status.WAITLISTED).order_by(
        "registered_at", "pk"
    )
    assert [r.user_id for r in queue][:2] == [waiting[8].pk, waiting[9].pk]
    assert {r.user_id for r in queue[2:]} == {s.pk for s in newcomers}
    # Each student who ends with a seat was told so exactly once; those never seated were not.
    # (Early waiters promoted and then cancelled by their own racer may have been told too.)
    outbox.run_due()
    seated_emails = Counter(
        message.to[0]
        for message in mail.outbox
        if message.subject.startswith(("You're registered", "A seat opened up"))
    )
    never_seated = waiting[8:] + newcomers
    assert {s.email: seated_emails[s.email] for s in waiting[5:8] + never_seated} == {
        **{s.email: 1 for s in waiting[5:8]},
        **{s.email: 0 for s in never_seated},
    }


def test_double_submits_racing_create_one_registration():
    event = EventPostFactory(capacity=CAPACITY)
    student = UserFactory()

    results = race([lambda: services.registration_create(event_id=event.pk, user=student)] * 10)

    assert [result for result in results if isinstance(result, Exception)] == []
    assert {result.pk for result in results} == {EventRegistration.objects.get().pk}
    assert_counters_exact(event)
    outbox.run_due()
    assert len(mail.outbox) == 1


def test_a_stuck_lock_is_a_clear_error_not_a_hang(monkeypatch):
    monkeypatch.setattr(locking, "LOCK_TIMEOUT_MS", 200)
    event = EventPostFactory(capacity=CAPACITY)
    locked = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                EventPost.objects.select_for_update().get(pk=event.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock, daemon=True)
    student = UserFactory()
    holder.start()
    assert locked.wait(timeout=5)
    started = time.monotonic()
    try:
        with pytest.raises(services.RegistrationBusy) as excinfo:
            services.registration_create(event_id=event.pk, user=student)
    finally:
        release.set()
        holder.join(timeout=10)

    assert time.monotonic() - started < 2
    assert (excinfo.value.code, excinfo.value.http_status) == ("busy", 503)
    assert not EventRegistration.objects.exists()
    # The lock timeout was local to the failed transaction: the next attempt just works.
    assert services.registration_create(event_id=event.pk, user=UserFactory()).pk
