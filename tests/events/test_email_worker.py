"""The reliability test with a real worker: the same e-mail task delivered three times through
Redis to a worker process sends one e-mail."""

from pathlib import Path

import pytest

from events import tasks
from events.models import EmailDelivery
from tests.conftest import database_url_for_subprocesses
from tests.factories import EventRegistrationFactory

ROOT = Path(__file__).resolve().parents[2]

# The worker must see rows this test commits, in the test database.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_email_task_run_three_times_by_a_worker_sends_one_email(celery_worker):
    # Three threads, so the three deliveries really race for the same e-mail.
    worker = celery_worker(
        pool="threads", concurrency=3, env={"DATABASE_URL": database_url_for_subprocesses()}
    )
    queue = celery_worker.queue
    registration = EventRegistrationFactory()

    results = [
        tasks.registration_email_send.apply_async(
            (registration.pk, "confirmed"), queue=queue, ignore_result=False
        )
        for _ in range(3)
    ]
    try:
        answers = [result.get(timeout=120) for result in results]
    except Exception as error:
        pytest.fail(f"No answer from the worker ({error!r}). Its log:\n{worker.log.read_text()}")

    assert sorted(answers) == [False, False, True]
    assert EmailDelivery.objects.filter(registration=registration).count() == 1
