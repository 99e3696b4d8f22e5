"""Redis, the Celery broker, is down: registration and check-in still succeed.

The broker is made unreachable for real (pointed at a closed port); the work they would have
queued is recorded in the database, and the reconciles catch the E-score up.
"""

import datetime as dt

import kombu.pools
import pytest
from django.urls import reverse
from django.utils import timezone

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


def test_registration_succeeds_and_logs_the_lost_email(
    client, broker_down, django_capture_on_commit_callbacks, caplog
):
    student = UserFactory()
    client.force_login(student)
    event = EventPostFactory(capacity=10)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:register", args=[event.pk]), follow=True)
    assert response.status_code == 200
    assert "You're registered" in response.content.decode()
    assert EventRegistration.objects.get(event=event, user=student).status == "confirmed"
    assert "enqueue_registration_email" in caplog.text


def test_check_in_succeeds_and_the_reconcile_awards_the_points(
    broker_down, django_capture_on_commit_callbacks
):
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
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.registration_check_in(registration_id=registration.pk, by=organizer)
    assert outcome.changed
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    assert not ScoreEntry.objects.filter(user=registration.user).exists()

    # Beat's attendance reconcile finds the unscored check-in.
    escore_services.score_attendance_reconcile()
    assert ScoreEntry.objects.filter(user=registration.user, reason="attended").exists()


def test_event_is_saved_when_its_geocoding_cannot_be_queued(
    broker_down, django_capture_on_commit_callbacks, caplog
):
    organizer = OrganizerFactory()
    starts_at = timezone.now() + dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event = services.event_create(
            organizer=organizer,
            title="Robotics night",
            category=EventPostFactory().category,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=2),
            location_name="Simon Hall",
        )
    assert len(callbacks) == 1
    event.refresh_from_db()
    assert event.geocode_status == "pending"
    assert "enqueue_event_geocode_task" in caplog.text
