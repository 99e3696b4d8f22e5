"""Celery application: configured from Django settings (the CELERY_* names)."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import after_task_publish, beat_init

from core import metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eren.settings.base")

app = Celery("eren")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

BEAT_HEARTBEAT_TASK = "eren.beat_heartbeat"


@app.task(name="eren.ping", ignore_result=False)
def ping() -> str:
    """Answer from a worker: proves the broker, a worker and the result backend work."""
    return "pong"


@app.task(name=BEAT_HEARTBEAT_TASK, ignore_result=True)
def beat_heartbeat() -> None:
    """Sent by beat every minute: a dead man's switch. The `eren.celery.beat.heartbeat`
    metric stops when beat stops scheduling, whatever the reason."""
    metrics.increment("celery.beat.heartbeat")


def _touch_beat_heartbeat_file() -> None:
    """Beat's liveness probe reads this file's age (BEAT_HEARTBEAT_FILE; unset: no file)."""
    path = os.environ.get("BEAT_HEARTBEAT_FILE")
    if path:
        Path(path).touch()


@beat_init.connect
def _beat_started(**kwargs) -> None:
    _touch_beat_heartbeat_file()


@after_task_publish.connect(sender=BEAT_HEARTBEAT_TASK)
def _beat_heartbeat_sent(**kwargs) -> None:
    _touch_beat_heartbeat_file()
