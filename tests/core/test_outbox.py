"""The transactional outbox (core/outbox.py): rows, relay, claims, back-off, dead letters.

The relay publishes to the real Redis broker, on a queue of the test's own; the failure
drills with a worker process, a real SMTP server and the broker down are in
test_outbox_drills.py.
"""

import datetime as dt
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_redis import get_redis_connection

from core import outbox, tasks
from core.models import OutboxMessage
from escore import tasks as escore_tasks
from events import services
from tests.conftest import sign_in
from tests.events.test_broker_down import broker_down  # noqa: F401 - fixture
from tests.factories import EventPostFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status


@pytest.fixture
def queue():
    """A broker queue of the test's own, emptied afterwards."""
    name = f"outbox-test-{time.monotonic_ns()}"
    yield name
    get_redis_connection("default").delete(name)


def add_refresh(user_id: int = 1, **kwargs) -> OutboxMessage:
    outbox.add(escore_tasks.leaderboard_refresh_user, user_id, **kwargs)
    return OutboxMessage.objects.latest("pk")


def test_a_row_is_written_with_the_action_and_rolled_back_with_it():
    with transaction.atomic():
        add_refresh(7)
    assert OutboxMessage.objects.get().args == [7]

    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 - rollback needs both
        add_refresh(8)
        raise RuntimeError
    assert list(OutboxMessage.objects.values_list("args", flat=True)) == [[7]]


def test_a_key_is_added_once_and_rows_without_one_are_each_their_own():
    add_refresh(1, key="refresh:1")
    add_refresh(1, key="refresh:1")
    add_refresh(1)
    add_refresh(1)
    assert OutboxMessage.objects.count() == 3


def test_the_relay_hands_due_rows_to_the_broker_once_per_lease(queue, settings):
    first, second = add_refresh(1), add_refresh(2)
    later = add_refresh(3)
    OutboxMessage.objects.filter(pk=later.pk).update(
        available_at=timezone.now() + dt.timedelta(minutes=5)
    )

    assert outbox.relay(queue=queue) == 2
    assert get_redis_connection("default").llen(queue) == 2
    # Handed over: not again until the lease is up (its message or worker may be lost).
    assert outbox.relay(queue=queue) == 0
    for row in OutboxMessage.objects.filter(pk__in=[first.pk, second.pk]):
        assert row.status == Status.PENDING
        assert row.available_at >= timezone.now() + dt.timedelta(
            seconds=settings.OUTBOX_LEASE_SECONDS - 5
        )


def test_the_relay_returns_quickly_and_keeps_the_rows_when_the_broker_is_down(
    broker_down,  # noqa: F811 - the imported fixture
    settings,
    caplog,
):
    add_refresh(1)
    started = time.monotonic()
    assert outbox.relay() == 0
    assert time.monotonic() - started < 3 * settings.BROKER_TIMEOUT
    assert "the broker took no message" in caplog.text
    assert OutboxMessage.objects.get().available_at <= timezone.now()


def test_a_claimed_row_is_not_run_by_a_second_copy_until_its_lease_ends():
    row = add_refresh(1)
    assert outbox.claim(row.pk)
    assert not outbox.claim(row.pk)
    OutboxMessage.objects.filter(pk=row.pk).update(locked_until=timezone.now())
    assert outbox.claim(row.pk)  # the first copy's worker died: its lease ran out
    outbox.mark_done(row.pk)
    assert not outbox.claim(row.pk)


def test_the_task_marks_its_row_done_and_a_second_delivery_does_nothing(monkeypatch):
    calls = []
    monkeypatch.setattr(
        escore_tasks.services, "leaderboard_refresh_user", lambda *, user_id: calls.append(user_id)
    )
    row = add_refresh(5)

    escore_tasks.leaderboard_refresh_user(5, outbox_id=row.pk)
    escore_tasks.leaderboard_refresh_user(5, outbox_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.attempts, calls) == (Status.DONE, 1, [5])
    assert row.done_at is not None


def test_back_off_doubles_from_the_base_up_to_the_cap(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS = 30, 3600
    for attempts, seconds in [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (20, 3600)]:
        wait = outbox.backoff(attempts).total_seconds()
        assert 0.8 * seconds <= wait <= 1.2 * seconds, attempts


def test_a_failing_row_backs_off_then_dies_after_a_day_and_staff_resend_it(settings):
    row = add_refresh(1)
    outbox.claim(row.pk)
    outbox.mark_failed(row.pk, ConnectionError("Redis is down"))
    row.refresh_from_db()
    assert (row.status, row.last_error) == (Status.PENDING, "ConnectionError: Redis is down")
    assert row.available_at > timezone.now() + dt.timedelta(seconds=20)
    assert row.failing_since is not None

    OutboxMessage.objects.filter(pk=row.pk).update(
        failing_since=timezone.now() - dt.timedelta(hours=settings.OUTBOX_DEAD_AFTER_HOURS)
    )
    outbox.claim(row.pk)
    outbox.mark_failed(row.pk, ConnectionError("still down"))
    row.refresh_from_db()
    assert row.status == Status.DEAD
    assert outbox.report()["dead"] == 1

    assert outbox.resend([row.pk]) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.failing_since) == (Status.PENDING, 0, None)
    assert outbox.resend([row.pk]) == 0  # only dead letters


def test_report_gives_the_oldest_pending_age_and_the_dead_letters():
    assert outbox.report() == {"pending": 0, "oldest_pending_seconds": 0.0, "dead": 0}
    old = add_refresh(1)
    add_refresh(2)
    OutboxMessage.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=11)
    )
    report = outbox.report()
    assert report["pending"] == 2
    assert 11 * 60 <= report["oldest_pending_seconds"] < 12 * 60


def test_prune_deletes_only_old_done_rows():
    old_done, new_done, pending = add_refresh(1), add_refresh(2), add_refresh(3)
    OutboxMessage.objects.filter(pk__in=[old_done.pk, new_done.pk]).update(status=Status.DONE)
    OutboxMessage.objects.filter(pk=old_done.pk).update(
        done_at=timezone.now() - dt.timedelta(days=8)
    )
    OutboxMessage.objects.filter(pk=new_done.pk).update(done_at=timezone.now())
    assert tasks.outbox_prune() == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {new_done.pk, pending.pk}


def test_a_row_naming_no_task_fails_visibly():
    OutboxMessage.objects.create(task="events.tasks.renamed_away", args=[1], key="gone")
    assert outbox.run_due() == 1
    row = OutboxMessage.objects.get()
    assert row.status == Status.PENDING
    assert "No task named 'events.tasks.renamed_away'" in row.last_error


def test_staff_see_dead_letters_and_resend_one_in_one_click(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    sign_in(client, staff)
    dead = add_refresh(1)
    OutboxMessage.objects.filter(pk=dead.pk).update(status=Status.DEAD, last_error="SMTP 421")
    add_refresh(2)

    page = client.get(reverse("admin:core_outboxmessage_changelist") + "?status__exact=dead")
    assert page.status_code == 200
    resend_url = reverse("admin:core_outboxmessage_resend", args=[dead.pk])
    assert resend_url in page.content.decode()

    response = client.post(resend_url)
    assert response.status_code == 302
    dead.refresh_from_db()
    assert dead.status == Status.PENDING


def test_staff_without_the_permission_cannot_resend(client):
    sign_in(client, UserFactory(is_staff=True))
    dead = add_refresh(1)
    OutboxMessage.objects.filter(pk=dead.pk).update(status=Status.DEAD)
    response = client.post(reverse("admin:core_outboxmessage_resend", args=[dead.pk]))
    assert response.status_code == 403
    dead.refresh_from_db()
    assert dead.status == Status.DEAD


def test_the_command_reports_drains_and_resends(capsys, side_effects):
    event = EventPostFactory(capacity=5)
    with side_effects(execute=False):
        services.registration_create(event_id=event.pk, user=UserFactory())
    dead = add_refresh(1)
    OutboxMessage.objects.filter(pk=dead.pk).update(status=Status.DEAD)

    call_command("outbox", "status")
    assert "pending 1" in capsys.readouterr().out
    call_command("outbox", "run")
    assert "ran 1" in capsys.readouterr().out
    assert len(mail.outbox) == 1
    call_command("outbox", "resend")
    assert "resent 1" in capsys.readouterr().out
    assert OutboxMessage.objects.filter(status=Status.DEAD).count() == 0
