"""The benchmark tooling still works: generator, production-like server and locust mix.

A few seconds of the load test with ten users against a tiny generated database, so the
benchmarks cannot rot between the runs that take the real figures (docs/BENCHMARKS.md).
"""

import os
import socket
import subprocess
import sys
import uuid

from django.conf import settings

from bench.load_test import locust_run
from bench.server import ROOT, BenchServer


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


def test_generated_site_serves_the_load_test_mix_without_failures():
    environment = {
        "DATABASE_URL": _smoke_database_url(),
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CACHE_KEY_PREFIX": f"eren-bench-smoke-{uuid.uuid4().hex[:8]}",
        "BENCH_CELERY_QUEUE": "eren-bench-smoke",
        "LOG_LEVEL": "WARNING",
    }
    generate = ["bench.generate_events", "--events", "60", "--students", "30", "--reset"]
    subprocess.run(
        [sys.executable, "-m", *generate],
        cwd=ROOT,
        env={**os.environ, **environment, "DJANGO_SETTINGS_MODULE": "eren.settings.base"},
        check=True,
        capture_output=True,
        timeout=300,
    )

    with BenchServer(port=_free_port(), workers=2, env=environment) as server:
        stats = locust_run(
            server,
            ["Visitor", "Student"],
            users=10,
            duration=6,
            env={"BENCH_STUDENTS": "30", "BENCH_THINK_TIME": "0.05,0.2"},
            reset_stats=False,
        )
        log = server.log_tail()

    total = stats["Aggregated"]
    assert total["Request Count"] > 20, log
    assert total["Failure Count"] == 0, (stats, log)
    # The one student logged in through allauth and reached the pages behind the login.
    assert stats["/accounts/login/ (POST)"]["Request Count"] == 1
    assert stats["/me/events/"]["Request Count"] + stats["/leaderboard/"]["Request Count"] > 0
    assert stats["/events/<id>/register (POST)"]["Request Count"] > 0
