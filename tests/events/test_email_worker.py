"""The reliability test with a real worker: the same e-mail task delivered three times through
Redis to a worker process sends one e-mail."""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from events import tasks
from events.models import EmailDelivery
from tests.factories import EventRegistrationFactory

ROOT = Path(__file__).resolve().parents[2]

# The worker must see rows this test commits, in the test database.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker_queue(tmp_path):
    """A worker process on a queue of its own, connected to the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    database = connection.settings_dict
    database_url = (
        f"postgres://{quote(database['USER'])}:{quote(database['PASSWORD'] or '')}"
        f"@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "eren.settings.test",
        "DATABASE_URL": database_url,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "eren",
            "worker",
            "--queues",
            queue,
            "--pool",
            "threads",
            "--concurrency",
            "3",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "info",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue, log
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def test_the_same_email_task_run_three_times_by_a_worker_sends_one_email(worker_queue):
    queue, log = worker_queue
    registration = EventRegistrationFactory()

    results = [
        tasks.registration_email_send.apply_async((registration.pk, "confirmed"), queue=queue)
        for _ in range(3)
    ]
    try:
        answers = [result.get(timeout=120) for result in results]
    except Exception as error:
        pytest.fail(f"No answer from the worker ({error!r}). Its log:\n{log.read_text()}")

    assert sorted(answers) == [False, False, True]
    assert EmailDelivery.objects.filter(registration=registration).count() == 1
