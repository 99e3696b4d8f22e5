import json
import time

import pytest

from eren.celery import app, ping


def test_task_makes_a_round_trip_through_redis_to_a_worker_process(celery_worker):
    worker = celery_worker()
    result = ping.apply_async(queue=celery_worker.queue)
    # Generous: a worker's cold start on a loaded 2-core CI machine can take many seconds.
    try:
        answer = result.get(timeout=120)
    except Exception as error:
        pytest.fail(f"No answer from the worker ({error!r}). Its log:\n{worker.log.read_text()}")
    assert answer == "pong"
    assert result.successful()


def test_celery_is_configured_for_reliability():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_always_eager is False
    assert app.conf.broker_url.startswith("redis://")


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    scheduled = {name: entry["task"] for name, entry in app.conf.beat_schedule.items()}
    assert scheduled, "the beat schedule is empty"
    missing = {name: task for name, task in scheduled.items() if task not in app.tasks}
    assert missing == {}


def test_workers_log_json_through_djangos_logging(celery_worker):
    """Deployed workers must log like the web pods: one JSON object a line, for Datadog."""
    worker = celery_worker(env={"LOG_FORMAT": "json"})
    deadline = time.monotonic() + 120
    while "ready." not in worker.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    lines = [line for line in worker.log.read_text().splitlines() if "ready." in line]
    assert lines, f"The worker never became ready. Its log:\n{worker.log.read_text()}"
    record = json.loads(lines[0])
    assert record["logger"] == "celery.apps.worker"
    assert record["status"] == "INFO"
