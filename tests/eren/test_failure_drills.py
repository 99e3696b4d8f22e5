"""Failure drills: Redis stopped and PostgreSQL unreachable, for real (closed ports, no mocks).

Redis down for the broker alone and the leaderboard's fallback are drilled in
tests/events/test_broker_down.py and tests/escore/test_reliability.py; here the whole of
Redis (cache, sessions' cache, broker) is gone at once while students use the site.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from events.models import EventRegistration
from tests.escore.test_reliability import stop_redis
from tests.events.test_broker_down import broker_down  # noqa: F401 - fixture
from tests.factories import EventPostFactory, ScoreEntryFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT = 9

PAGES = ["/", "/search/?q=jazz"]
STUDENT_PAGES = ["/leaderboard/", "/me/events/", "/api/v1/me"]


@pytest.fixture
def redis_stopped(settings, broker_down):  # noqa: F811 - the imported fixture
    stop_redis(settings)


@pytest.mark.django_db
@pytest.mark.usefixtures("redis_stopped")
def test_redis_stopped_pages_render_for_visitors_and_students(client):
    event = EventPostFactory()
    ScoreEntryFactory(event=None, reason="adjustment", points=5)
    for path in [*PAGES, event.get_absolute_url()]:
        assert client.get(path).status_code == 200, path
    client.force_login(UserFactory())
    for path in [*PAGES, *STUDENT_PAGES, event.get_absolute_url()]:
        assert client.get(path).status_code == 200, path


@pytest.mark.django_db
@pytest.mark.usefixtures("redis_stopped")
def test_redis_stopped_registration_works(client, side_effects):
    student = UserFactory()
    event = EventPostFactory(capacity=3)
    client.force_login(student)
    with side_effects(execute=True):
        response = client.post(reverse("events:register", args=[event.pk]), follow=True)
    assert response.status_code == 200
    assert "You're registered" in response.content.decode()
    assert EventRegistration.objects.get(event=event, user=student).status == "confirmed"


def _requests_with_postgres_unreachable(paths: list[str]) -> dict[str, dict]:
    """GET each path in a new Django process whose DATABASE_URL points at a closed port."""
    script = "\n".join(
        [
            "import json, sys, django",
            "django.setup()",
            "from django.test.utils import setup_test_environment",
            "setup_test_environment()",
            "from django.test import Client",
            "client, out = Client(raise_request_exception=False), {}",
            "for path in json.loads(sys.argv[1]):",
            "    r = client.get(path)",
            "    out[path] = {'status': r.status_code, 'headers': dict(r.headers),",
            "                 'body': r.content.decode()}",
            "print(json.dumps(out))",
        ]
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "eren.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/eren",
        # A prefix of its own: no cached page from another test can answer for the database.
        "CACHE_KEY_PREFIX": f"eren-drill-{uuid.uuid4().hex[:8]}",
    }
    completed = subprocess.run(
        [sys.executable, "-c", script, json.dumps(paths)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_postgres_unreachable_pages_are_a_friendly_503_and_liveness_stays_200():
    answers = _requests_with_postgres_unreachable(
        ["/health", "/health/ready", "/", "/events/1/", "/search/?q=jazz", "/api/v1/events"]
    )
    assert answers["/health"]["status"] == 200
    assert answers["/health/ready"]["status"] == 503
    for path in ("/", "/events/1/", "/search/?q=jazz"):
        page = answers[path]
        assert page["status"] == 503, path
        assert "briefly unavailable" in page["body"]
        request_id = page["headers"]["X-Request-ID"]
        assert request_id in page["body"]
        assert page["headers"]["Retry-After"] == "30"
    api = answers["/api/v1/events"]
    assert api["status"] == 503
    assert json.loads(api["body"])["error"]["code"] == "unavailable"
