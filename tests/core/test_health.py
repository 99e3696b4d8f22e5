import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import database_url_for_subprocesses

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT = 9  # discard: nothing listens there on a test machine


def request_in_fresh_process(path: str, **environment: str) -> tuple[int, dict, str]:
    """GET a path in a new Django process whose database or Redis URL points at nothing:
    (status, JSON body, the process's log).

    A separate process is the honest way to make a dependency unreachable: the test's own
    database connection stays inside its transaction.
    """
    script = (
        "import json, django; django.setup();"
        "from django.test.utils import setup_test_environment; setup_test_environment();"
        "from django.test import Client;"
        f"r = Client().get({path!r});"
        "print(json.dumps({'status': r.status_code, 'body': json.loads(r.content)}))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "eren.settings.test", **environment}
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(completed.stdout.strip().splitlines()[-1])
    return answer["status"], answer["body"], completed.stdout + completed.stderr


@pytest.mark.django_db
def test_liveness_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_answers_200_when_the_database_answers(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_stays_200_when_redis_is_unreachable():
    """Pages render without Redis, so a Redis outage must not empty the load balancer."""
    status, body, _ = request_in_fresh_process(
        "/health/ready",
        DATABASE_URL=database_url_for_subprocesses(),
        REDIS_URL=f"redis://127.0.0.1:{CLOSED_PORT}/0",
    )
    assert (status, body) == (200, {"status": "ok"})


def test_readiness_fails_when_postgres_is_unreachable_and_logs_why_not_in_the_body():
    unreachable = f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/eren"
    status, body, log = request_in_fresh_process("/health/ready", DATABASE_URL=unreachable)
    assert (status, body) == (503, {"status": "unavailable"})
    assert "Readiness check failed: the database does not answer" in log
    assert "OperationalError" in log
    assert f"port {CLOSED_PORT} failed" in log


def test_liveness_stays_200_when_postgres_is_unreachable():
    unreachable = f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/eren"
    status, body, _ = request_in_fresh_process("/health", DATABASE_URL=unreachable)
    assert (status, body) == (200, {"status": "ok"})
