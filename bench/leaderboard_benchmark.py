"""Leaderboard with 100,000 students: rebuild time and API latency (top 50 + own rank).

    createdb -h 127.0.0.1 -U postgres eren_bench_escore
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_bench_escore \\
    REDIS_URL=redis://127.0.0.1:6379/7 DEBUG=false \\
        python -m bench.leaderboard_benchmark --students 100000 --requests 2000

Creates the students and their ledger once (SQL `generate_series`, a few seconds), times
`leaderboard_rebuild()` (one aggregate query per scope, pipelined ZADDs, atomic swap), then
times `GET /api/v1/leaderboard?term=…&limit=50` as a logged-in student end to end: in-process
through Django's test client (every middleware, session and auth lookup, the Redis round
trip, the names query and JSON rendering), or over loopback HTTP against a running server
with `--url http://127.0.0.1:8001` (e.g. gunicorn). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import platform
import statistics
import sys
import time
from urllib.parse import urlsplit

import django
import django.db

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eren.settings.base")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from escore import services  # noqa: E402
from escore.leaderboard import Leaderboard  # noqa: E402
from escore.models import ScoreEntry  # noqa: E402
from events.models import EventCategory, EventPost  # noqa: E402
from users.models import User  # noqa: E402

EMAIL_DOMAIN = "bench.wustl.edu"
EVENTS = 400


def database_create_missing() -> None:
    """Create the benchmark's database (never the one `make run` uses) if it is missing."""
    import psycopg

    settings_ = connection.settings_dict
    try:
        connection.ensure_connection()
        return
    except django.db.OperationalError as error:
        if "does not exist" not in str(error):
            raise
    with psycopg.connect(
        host=settings_["HOST"],
        port=settings_["PORT"] or 5432,
        user=settings_["USER"],
        password=settings_["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(f'CREATE DATABASE "{settings_["NAME"]}"')


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def data_create(*, students: int) -> None:
    """Students (10% hidden, ~13% pseudonyms), events this term, and ~8 entries per student."""
    existing = User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").count()
    if existing >= students:
        return
    started = time.monotonic()
    with transaction.atomic():
        organizer, _ = User.objects.get_or_create(
            email=f"organizer@{EMAIL_DOMAIN}",
            defaults={"display_name": "Bench Organizer", "is_organizer": True},
        )
        category, _ = EventCategory.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
        if not EventPost.objects.filter(category=category).exists():
            now = timezone.now()
            EventPost.objects.bulk_create(
                EventPost(
                    organizer=organizer,
                    category=category,
                    title=f"Bench event {index}",
                    location_name="Olin Library",
                    # Within the last few weeks: in the current term and all time.
                    starts_at=now - dt.timedelta(hours=2 + index),
                    ends_at=now - dt.timedelta(hours=1 + index),
                    status=EventPost.Status.PUBLISHED,
                )
                for index in range(EVENTS)
            )
        event_ids = list(
            EventPost.objects.filter(category=category).order_by("pk").values_list("pk", flat=True)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO users_user (password, is_superuser, email, is_staff, is_active,
                    date_joined, display_name, is_organizer, leaderboard_visibility, pseudonym,
                    email_reminders)
                SELECT '!', false, 'student' || g || '@' || %(domain)s, false, true, now(),
                    'Bench Student ' || g, false,
                    CASE WHEN g %% 10 = 0 THEN 'hidden' WHEN g %% 7 = 0 THEN 'pseudonym'
                         ELSE 'public' END,
                    CASE WHEN g %% 7 = 0 AND g %% 10 <> 0 THEN 'Bear ' || g ELSE '' END, true
                FROM generate_series(1, %(students)s) AS g
                ON CONFLICT DO NOTHING
                """,
                {"domain": EMAIL_DOMAIN, "students": students},
            )
            # 0 to 16 attended events per student (many ties, as in real life), one breadth
            # bonus each, and a few staff adjustments.
            cursor.execute(
                """
                INSERT INTO escore_scoreentry (user_id, event_id, points, reason, generation,
                    note, created_at)
                SELECT u.id, (%(events)s::bigint[])[1 + ((u.id * 7919 + k * 104729) %% %(n)s)],
                    10, 'attended', 1, '', now()
                FROM users_user u
                CROSS JOIN LATERAL generate_series(1, (u.id * 37) %% 17) AS k
                WHERE u.email LIKE 'student%%@' || %(domain)s
                ON CONFLICT DO NOTHING
                """,
                {"events": event_ids, "n": len(event_ids), "domain": EMAIL_DOMAIN},
            )
            cursor.execute(
                """
                INSERT INTO escore_scoreentry (user_id, event_id, points, reason, generation,
                    note, created_at)
                SELECT user_id, min(event_id), 5, 'new_category', 1, '', now()
                FROM escore_scoreentry WHERE reason = 'attended' GROUP BY user_id
                ON CONFLICT DO NOTHING
                """
            )
            cursor.execute(
                """
                INSERT INTO escore_scoreentry (user_id, event_id, points, reason, generation,
                    note, created_at)
                SELECT id, NULL, 1 + id %% 3, 'adjustment', 1, 'bench', now()
                FROM users_user WHERE id %% 11 = 0 AND email LIKE 'student%%@' || %(domain)s
                """,
                {"domain": EMAIL_DOMAIN},
            )
        connection.cursor().execute("ANALYZE users_user; ANALYZE escore_scoreentry;")
    print(f"Created the data in {time.monotonic() - started:.1f} s.", file=sys.stderr)


def rebuild_times(*, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        services.leaderboard_rebuild()
        seconds.append(time.perf_counter() - started)
    return seconds


def student_in_the_middle(*, hidden: bool) -> User:
    totals, listed = Leaderboard.for_scope("all").snapshot()
    ordered = sorted(totals, key=totals.get)
    candidates = [uid for uid in ordered if (uid not in listed) == hidden]
    return User.objects.get(pk=candidates[len(candidates) // 2])


def api_times(
    *, requests: int, url: str | None
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall-clock ms per request, and this process's CPU ms (the whole request when in process)."""
    paths = {
        "all time, listed student": ("/api/v1/leaderboard?term=all&limit=50", False),
        "current term, listed student": ("/api/v1/leaderboard?term=current&limit=50", False),
        "all time, hidden student": ("/api/v1/leaderboard?term=all&limit=50", True),
    }
    samples: dict[str, list[float]] = {name: [] for name in paths}
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    clients = {}
    for hidden in (False, True):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(student_in_the_middle(hidden=hidden))
        clients[hidden] = client
    if url:
        parts = urlsplit(url)
        server = {"connection": None}

        def get(path: str, hidden: bool) -> None:
            cookie = f"sessionid={clients[hidden].cookies['sessionid'].value}"
            for attempt in (1, 2):
                if server["connection"] is None:
                    server["connection"] = http.client.HTTPConnection(
                        parts.hostname, parts.port or 80, timeout=10
                    )
                try:
                    server["connection"].request(
                        "GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"}
                    )
                    response = server["connection"].getresponse()
                    body = response.read()
                    break
                except (ConnectionError, http.client.HTTPException):
                    # With GUNICORN_MAX_REQUESTS set, gunicorn recycles workers: reconnect.
                    server["connection"] = None
                    if attempt == 2:
                        raise
            assert response.status == 200, body[:200]
    else:

        def get(path: str, hidden: bool) -> None:
            response = clients[hidden].get(path)
            assert response.status_code == 200, response.content[:200]

    for path, hidden in paths.values():  # warm-up
        for _ in range(50):
            get(path, hidden)
    for _ in range(requests):
        for name, (path, hidden) in paths.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            get(path, hidden)
            samples[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - cpu_started) * 1000)
    return samples, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="per kind of request")
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--url", help="time a running server instead of the test client")
    args = parser.parse_args()

    database_create_missing()
    call_command("migrate", verbosity=0)
    data_create(students=args.students)
    rebuilds = rebuild_times(runs=args.rebuilds)
    totals, listed = Leaderboard.for_scope("all").snapshot()
    samples, cpu = api_times(requests=args.requests, url=args.url)

    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · {platform.node()} · "
        f"{platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()}"
    )
    print(
        f"{len(totals):,} students in the all-time set, {len(listed):,} listed; "
        f"{ScoreEntry.objects.count():,} ledger entries.\n"
    )
    print("| rebuild (all time + current term) | seconds |")
    print("|---|---:|")
    for index, seconds in enumerate(rebuilds, start=1):
        print(f"| run {index} | {seconds:.2f} |")
    via = f"HTTP to {args.url}" if args.url else "Django test client, in process"
    print(f"\nGET /api/v1/leaderboard, limit=50, logged in ({via}), {args.requests} each, ms:\n")
    print("| request | p50 | p95 | p99 | max | CPU p50 | CPU p95 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, values in samples.items():
        print(
            f"| {name} | {statistics.median(values):.2f} | {percentile(values, 0.95):.2f} | "
            f"{percentile(values, 0.99):.2f} | {max(values):.2f} | "
            f"{statistics.median(cpu[name]):.2f} | {percentile(cpu[name], 0.95):.2f} |"
        )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nLoad average during the run (1, 5, 15 min): {load}.")


if __name__ == "__main__":
    main()
