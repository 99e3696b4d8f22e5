"""Redis, the Celery broker, is down: registration, check-in and event edits still succeed.

The broker is made unreachable for real (pointed at a closed port). Requests never talk to
it: their side effects are outbox rows, which the relay cannot hand over while it is down
and hands over once it is back (core/outbox.py). The reconciles still catch the E-score up.
"""

import datetime as dt

import kombu.pools
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core import outbox
from core.models import OutboxMessage
from eren.celery import app as celery_app
from escore import services as escore_services
from escore.models import ScoreEntry
from events import services
from events.models import EventRegistration
from tests.factories import EventPostFactory, OrganizerFactory, UserFactory

pytestmark = pytest.mark.django_db
CLOSED_PORT = 9


def _reset_broker_connections() -> None:
    # app.pool is kombu's process-wide pool for the broker URL: closing it alone leaves the
    # closed pool registered, and every later .delay() fails with "Acquire on closed pool".
    # kombu.pools.reset() closes and forgets them all.
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_publish_retry
    conf.broker_url = f"redis://127.0.0.1:{CLOSED_PORT}/0"
    conf.task_publish_retry = False  # fail at once instead of retrying for seconds
    _reset_broker_connections()
    yield
    conf.broker_url, conf.task_publish_retry = saved
    _reset_broker_connections()


def _relay_fails_then_runs_once_the_broker_is_back(caplog) -> None:
    assert outbox.relay() == 0
    assert "the broker took no message" in caplog.text
    assert OutboxMessage.objects.filter(status="pending").exists()


def test_registration_succeeds_and_its_email_waits_for_the_broker(
    client, broker_down, side_effects, caplog
):
    student = UserFactory()
    client.force_login(student)
    event = EventPostFactory(capacity=10)
    with side_effects(execute=False):
        response = client.post(reverse("events:register", args=[event.pk]), follow=True)
    assert response.status_code == 200
    assert "You're registered" in response.content.decode()
    assert EventRegistration.objects.get(event=event, user=student).status == "confirmed"
    _relay_fails_then_runs_once_the_broker_is_back(caplog)
    assert mail.outbox == []

    assert outbox.run_due() == 1
    assert [message.subject.split(":")[0] for message in mail.outbox] == ["You're registered"]


def test_check_in_succeeds_and_its_points_follow(broker_down, side_effects, caplog):
    organizer = OrganizerFactory()
    now = timezone.now()
    event = EventPostFactory(
        organizer=organizer,
        starts_at=now - dt.timedelta(minutes=30),
        ends_at=now + dt.timedelta(hours=1),
    )
    registration = EventRegistration.objects.create(
        event=event, user=UserFactory(), status="confirmed"
    )
    with side_effects(execute=False):
        outcome = services.registration_check_in(registration_id=registration.pk, by=organizer)
    assert outcome.changed
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    assert not ScoreEntry.objects.filter(user=registration.user).exists()
    _relay_fails_then_runs_once_the_broker_is_back(caplog)

    # Beat's attendance reconcile finds the unscored check-in as well; the outbox row then
    # adds nothing more.
    escore_services.score_attendance_reconcile()
    assert ScoreEntry.objects.filter(user=registration.user, reason="attended").count() == 1
    outbox.run_due()
    assert ScoreEntry.objects.filter(user=registration.user, reason="attended").count() == 1


def test_event_is_saved_and_placed_once_the_broker_is_back(broker_down, side_effects, caplog):
    organizer = OrganizerFactory()
    starts_at = timezone.now() + dt.timedelta(days=3)
    with side_effects(execute=False):
        event = services.event_create(
            organizer=organizer,
            title="Robotics night",
            category=EventPostFactory().category,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=2),
            location_name="Simon Hall",
        )
    event.refresh_from_db()
    assert event.geocode_status == "pending"
    _relay_fails_then_runs_once_the_broker_is_back(caplog)

    outbox.run_due()  # the campus gazetteer knows Simon Hall; no key, no Google
    event.refresh_from_db()
    assert event.geocode_status == "found"
