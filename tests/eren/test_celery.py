import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from eren.celery import app, ping

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_queue(tmp_path):
    """A real Celery worker process on a queue of its own, so no other worker steals the task."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "eren.settings.test"}
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
            "--concurrency",
            "1",
            "--pool",
            "solo",
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


def test_task_makes_a_round_trip_through_redis_to_a_worker_process(worker_queue):
    queue, log = worker_queue
    result = ping.apply_async(queue=queue)
    # Generous: a worker's cold start on a loaded 2-core CI machine can take many seconds.
    try:
        answer = result.get(timeout=120)
    except Exception as error:
        pytest.fail(f"No answer from the worker ({error!r}). Its log:\n{log.read_text()}")
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
