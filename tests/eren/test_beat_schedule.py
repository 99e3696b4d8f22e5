"""The beat schedule: every entry runs a real task, none is scheduled through the broker."""

import datetime as dt

import pytest
from celery.schedules import crontab
from django.conf import settings

from eren.celery import app

EMAIL_TASKS = [
    "events.tasks.registration_email_send",
    "events.tasks.registration_reminder_send",
    "events.tasks.event_changed_email_send",
    "events.tasks.event_cancelled_email_send",
    "events.tasks.organizer_message_send",
]


@pytest.fixture(scope="module")
def registered_tasks():
    app.loader.import_default_modules()
    return app.tasks


def test_every_beat_entry_names_a_registered_task(registered_tasks):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} >= {
        "events.tasks.reminders_queue_due",
        "events.tasks.email_deliveries_delete_old",
        "users.tasks.unverified_users_delete",
        "users.tasks.expired_sessions_delete",
    }
    for name, entry in schedule.items():
        assert entry["task"] in registered_tasks, name
        assert registered_tasks[entry["task"]].acks_late, name


def test_the_reminder_sweep_runs_every_few_minutes_and_clean_up_daily():
    schedule = settings.CELERY_BEAT_SCHEDULE
    sweep = schedule["queue-due-reminder-emails"]["schedule"]
    assert isinstance(sweep, dt.timedelta)
    assert sweep <= dt.timedelta(minutes=10)
    for name in (
        "delete-unverified-accounts",
        "delete-expired-sessions",
        "delete-old-email-deliveries",
    ):
        assert isinstance(schedule[name]["schedule"], crontab), name


@pytest.mark.parametrize("name", EMAIL_TASKS)
def test_email_tasks_retry_on_mail_server_errors_within_the_visibility_timeout(
    registered_tasks, name
):
    task = registered_tasks[name]
    assert task.acks_late
    assert OSError in task.autoretry_for
    visibility_timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert task.retry_backoff_max < visibility_timeout
