"""The benchmark tooling still works: generator, server, locust mix and the two scripts.

A few seconds each of the whole load test (its locust mix included) and the contention
script against a tiny generated database, so the benchmarks cannot rot between the runs that
take the real figures (docs/BENCHMARKS.md).
"""

import os
import socket
import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from bench.server import ROOT


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _smoke_database_url() -> str:
    """A database of the smoke test's own next to the test database (the generator resets it)."""
    database = settings.DATABASES["default"]
    name = f"eren_bench_smoke_{database['NAME']}"[:63]
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return (
        f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}"
        f":{database['PORT'] or 5432}/{name}"
    )


@pytest.fixture(scope="module")
def environment() -> dict[str, str]:
    """A tiny generated database (60 events, 30 students) of the smoke tests' own."""
    environment = {
        "DATABASE_URL": _smoke_database_url(),
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CACHE_KEY_PREFIX": f"eren-bench-smoke-{uuid.uuid4().hex[:8]}",
        "BENCH_CELERY_QUEUE": "eren-bench-smoke",
        "LOG_LEVEL": "WARNING",
    }
    generate = ["bench.generate_events", "--events", "60", "--students", "30", "--reset"]
    _run_module(generate, environment, timeout=300)
    return environment


def _run_module(arguments: list[str], environment: dict[str, str], *, timeout: int):
    return subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        env={**os.environ, **environment, "DJANGO_SETTINGS_MODULE": "eren.settings.base"},
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_load_test_script_prints_every_table(environment):
    arguments = [
        *("bench.load_test", "--port", str(_free_port()), "--workers", "2", "--users", "10"),
        *("--spawn-rate", "10"),
        *("--duration", "5", "--baseline-users", "5", "--baseline-duration", "2"),
        *("--search-rate", "5", "--search-rate-duration", "3"),
    ]
    env = {**environment, "BENCH_STUDENTS": "30", "BENCH_THINK_TIME": "0.05,0.2"}
    output = _run_module(arguments, env, timeout=240).stdout

    assert "| /search/?q= | off |" in output
    assert "Search page at 5 searches/s offered" in output
    rows = {line.split(" | ")[0][2:]: line for line in output.splitlines() if line[:3] == "| /"}
    aggregated = next(line for line in output.splitlines() if line.startswith("| Aggregated |"))
    assert aggregated.endswith("| 0 |"), output  # no failures in the mix
    # The student logged in through allauth and reached the pages behind the login.
    assert _count(rows["/events/<id>/register (POST)"]) > 0, output
    pages_behind_login = [rows[name] for name in ("/me/events/", "/leaderboard/") if name in rows]
    assert sum(map(_count, pages_behind_login)) > 0, output
    assert "Web worker RSS after the mix, MB:" in output


def _count(row: str) -> int:
    return int(row.split(" | ")[1])


def test_registration_contention_script_fills_exactly_the_seats(environment):
    arguments = ["bench.registration_contention", "--requests", "20", "--seats", "5"]
    arguments += ["--port", str(_free_port()), "--workers", "2", "--rate", "40"]
    # Exits 1 unless exactly 5 are confirmed and every answer is the redirect to the event.
    output = _run_module(arguments, environment, timeout=120).stdout
    assert "| 5 | 15 | 5 | 0 |" in output, output
