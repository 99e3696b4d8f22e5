import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eren.celery import app, beat_heartbeat, ping

ROOT = Path(__file__).resolve().parents[2]


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


def test_sending_the_beat_heartbeat_touches_beats_liveness_file(
    celery_worker, tmp_path, monkeypatch
):
    """Beat's liveness probe reads the age of this file; it is touched each time the
    heartbeat is sent through the broker (and when beat starts)."""
    heartbeat = tmp_path / "beat-heartbeat"
    monkeypatch.setenv("BEAT_HEARTBEAT_FILE", str(heartbeat))
    celery_worker()
    beat_heartbeat.apply_async(queue=celery_worker.queue)
    first = heartbeat.stat().st_mtime_ns
    time.sleep(0.05)
    beat_heartbeat.apply_async(queue=celery_worker.queue)
    assert heartbeat.stat().st_mtime_ns > first
    # The worker takes the queue in order: once the ping answers, both heartbeats ran.
    assert ping.apply_async(queue=celery_worker.queue).get(timeout=120) == "pong"


def test_the_beat_heartbeat_is_scheduled_every_minute():
    entry = app.conf.beat_schedule["beat-heartbeat"]
    assert entry["task"] == beat_heartbeat.name
    assert entry["schedule"] == 60


def test_enqueueing_with_redis_down_fails_within_a_second_or_two():
    """With the deployed settings (publish retries on), a request that enqueues a task while
    Redis is down must not hang: the result backend used to retry for ~20 s per .delay()."""
    script = (
        "import json, time, django; django.setup();"
        "from events import tasks;"
        "took = [];\n"
        "for _ in range(3):\n"
        "    began = time.monotonic()\n"
        "    try: tasks.registration_email_send.delay(1, 'confirmed')\n"
        "    except Exception: pass\n"
        "    took.append(time.monotonic() - began)\n"
        "print(json.dumps(took))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "eren.settings.base",
        "REDIS_URL": "redis://127.0.0.1:9/0",
    }
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    took = json.loads(completed.stdout.strip().splitlines()[-1])
    assert max(took) < 3, took
