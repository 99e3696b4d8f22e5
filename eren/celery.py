"""Celery application: configured from Django settings (the CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eren.settings.base")

app = Celery("eren")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="eren.ping")
def ping() -> str:
    """Answer from a worker: proves the broker, a worker and the result backend work."""
    return "pong"
