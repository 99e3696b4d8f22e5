import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from eren.celery import app, ping

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_queue():
    """A real Celery worker process on a queue of its own, so no other worker steals the task."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
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
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield queue
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def test_task_makes_a_round_trip_through_redis_to_a_worker_process(worker_queue):
    result = ping.apply_async(queue=worker_queue)
    assert result.get(timeout=30) == "pong"
    assert result.successful()


def test_celery_is_configured_for_reliability():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_always_eager is False
    assert app.conf.broker_url.startswith("redis://")
