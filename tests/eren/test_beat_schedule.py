"""The beat schedule: every entry runs a real task, none is scheduled through the broker."""

import datetime as dt

import pytest
from celery.schedules import crontab
from django.conf import settings

from core.outbox import OutboxTask
from eren.celery import app

EMAIL_TASKS = [
    "events.tasks.registration_email_send",
    "events.tasks.registration_reminder_send",
    "events.tasks.event_changed_email_send",
    "events.tasks.event_cancelled_email_send",
    "events.tasks.organizer_message_send",
    "events.tasks.saved_search_alert_send",
    "escore.tasks.dispute_decision_email_send",
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
        "events.tasks.saved_search_alerts_queue",
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
def test_email_tasks_are_retried_by_the_outbox_and_never_run_twice_at_once(registered_tasks, name):
    task = registered_tasks[name]
    assert isinstance(task, OutboxTask)
    assert task.acks_late
    assert not getattr(task, "autoretry_for", ())
    # A task still running is never handed over again: neither by the broker (visibility
    # timeout) nor by the relay (the lease) while the time limit lets it run.
    visibility_timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_TIME_LIMIT < settings.OUTBOX_LEASE_SECONDS < visibility_timeout
    assert settings.OUTBOX_DEAD_AFTER_HOURS >= 24


def test_the_outbox_relay_runs_every_few_seconds(registered_tasks):
    entry = settings.CELERY_BEAT_SCHEDULE["outbox-relay"]
    assert entry["task"] == "core.tasks.outbox_relay"
    assert entry["schedule"] <= 5
