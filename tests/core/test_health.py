import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import database_url_for_subprocesses

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT = 9  # discard: nothing listens there on a test machine


def request_in_fresh_process(path: str, **environment: str) -> tuple[int, dict]:
    """GET a path in a new Django process whose database or Redis URL points at nothing.

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
    return answer["status"], answer["body"]


@pytest.mark.django_db
def test_liveness_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_answers_200_when_postgres_and_redis_answer(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": ["database", "redis"]}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_names_redis_when_redis_is_unreachable():
    status, body = request_in_fresh_process(
        "/health/ready",
        DATABASE_URL=database_url_for_subprocesses(),
        REDIS_URL=f"redis://127.0.0.1:{CLOSED_PORT}/0",
    )
    assert status == 503
    assert body["status"] == "unavailable"
    assert list(body["failing"]) == ["redis"]


def test_readiness_names_the_database_when_postgres_is_unreachable():
    unreachable = f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/eren"
    status, body = request_in_fresh_process("/health/ready", DATABASE_URL=unreachable)
    assert status == 503
    assert list(body["failing"]) == ["database"]
    assert "OperationalError" in body["failing"]["database"]


def test_liveness_stays_200_when_postgres_is_unreachable():
    unreachable = f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/eren"
    status, body = request_in_fresh_process("/health", DATABASE_URL=unreachable)
    assert (status, body) == (200, {"status": "ok"})
