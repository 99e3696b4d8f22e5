"""A worker killed with SIGKILL in the middle of an award: another worker runs the task
again and the award happens once. Real worker processes, real broker, real database."""

import signal
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from escore import tasks
from escore.leaderboard import Leaderboard
from escore.models import ScoreEntry
from users.models import User

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def start_worker(celery_worker, _isolated_cache):
    """Workers with a visibility timeout of seconds (tests/escore/worker_settings.py), on the
    test's database and cache prefix."""

    def start(name: str):
        return celery_worker(
            name=name,
            settings_module="tests.escore.worker_settings",
            env={
                "ESCORE_TEST_DATABASE": connection.settings_dict["NAME"],
                "ESCORE_TEST_CACHE_PREFIX": _isolated_cache,
            },
        )

    start.queue = celery_worker.queue
    return start


def wait_for(condition, *, timeout: float, what: str, logs=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    details = "\n".join(f"--- {log.name}\n{log.read_text()}" for log in logs)
    pytest.fail(f"Timed out waiting for {what}.\n{details}")


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        # Activity statistics are a snapshot taken once per transaction unless cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_mid_award_is_replaced_and_the_award_happens_once(start_worker, attended):
    student = User.objects.create(email="killed@wustl.edu", display_name="Killed Mid-Task")
    registration = attended(student)
    first = start_worker("first")

    # Hold the student's row lock, so the first worker stops inside the award's transaction.
    with transaction.atomic():
        User.objects.select_for_update().get(pk=student.pk)
        tasks.score_attendance_sync.apply_async((registration.pk,), queue=start_worker.queue)
        wait_for(
            lambda: lock_waiters() > 0, timeout=120, what="the task to block", logs=[first.log]
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=20)
    assert not ScoreEntry.objects.exists()

    second = start_worker("second")
    wait_for(
        lambda: ScoreEntry.objects.filter(user=student).count() >= 2,
        timeout=120,
        what="the second worker to run the task",
        logs=[first.log, second.log],
    )
    time.sleep(2)  # any duplicate delivery would have landed by now

    assert sorted(ScoreEntry.objects.filter(user=student).values_list("reason", "generation")) == [
        ("attended", 1),
        ("new_category", 1),
    ]
    assert Leaderboard.for_scope("all").standing(student.pk).score == 15
