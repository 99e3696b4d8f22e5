"""500 concurrent registrations for 100 seats through gunicorn; prints Markdown.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_bench \\
    REDIS_URL=redis://127.0.0.1:6379/12 python -m bench.registration_contention

Creates an upcoming event with 100 seats and logs in 500 of the generator's students by
writing their sessions directly (as Django's test client does; the PBKDF2 of 500 logins is
not what is measured), starts gunicorn as production does (bench.server) with the same
SECRET_KEY, warms its workers up with 50 registrations for another event, then releases
500 threads at once, each POSTing /events/<id>/register with its own session and CSRF
token (or, with --rate N, sends them N a second). Passes when exactly 100 registrations
are confirmed, the other 400 waitlisted, and every answer is the redirect back to the
event.
Fill the database first: python -m bench.generate_events --events 5000 --students 500.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import secrets
import statistics
import threading
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eren.settings.base")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.cached_db import SessionStore  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.leaderboard_benchmark import EMAIL_DOMAIN, percentile  # noqa: E402
from bench.load_test import machine_line  # noqa: E402
from bench.server import BenchServer  # noqa: E402
from events.models import EventCategory, EventPost, EventRegistration  # noqa: E402
from users.models import User  # noqa: E402


def event_create(*, seats: int) -> EventPost:
    organizer = User.objects.filter(is_organizer=True).order_by("pk").first()
    category = EventCategory.objects.order_by("pk").first()
    starts_at = timezone.now() + dt.timedelta(days=3)
    return EventPost.objects.create(
        organizer=organizer,
        category=category,
        title="Registration contention benchmark",
        description="Many students, few seats.",
        location_name="Olin Library",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        capacity=seats,
        status=EventPost.Status.PUBLISHED,
    )


def sessions_create(*, students: int) -> list[str]:
    """Session keys of `students` logged-in students, signed with settings.SECRET_KEY."""
    users = User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}", email__startswith="student")
    keys = []
    for user in users.order_by("pk")[:students]:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    if len(keys) < students:
        raise SystemExit(f"Only {len(keys)} students; run bench.generate_events --students.")
    return keys


def register_all(
    *, port: int, event_id: int, session_keys: list[str], rate: float | None = None
) -> list[tuple[int, float, str]]:
    """(status, milliseconds, Location) of each POST: all released at once, or `rate` a second.

    At a rate, the i-th request leaves i / rate seconds after the first. A request's time
    runs from its connect to the end of the answer.
    """
    results: list[tuple[int, float, str]] = []
    lock = threading.Lock()
    released = 0.0

    def release() -> None:
        nonlocal released
        released = time.perf_counter()

    start = threading.Barrier(len(session_keys), action=release)

    def register(index: int, session_key: str) -> None:
        csrf = secrets.token_hex(16)  # a 32-character secret, as Django's cookie holds
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {
            "Cookie": f"sessionid={session_key}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Content-Length": "0",
        }
        start.wait()
        if rate:
            time.sleep(max(0.0, released + index / rate - time.perf_counter()))
        started = time.perf_counter()
        try:
            connection.request("POST", f"/events/{event_id}/register", headers=headers)
            response = connection.getresponse()
            response.read()
            outcome = (response.status, response.getheader("Location") or "")
        except OSError as error:
            outcome = (0, repr(error))
        elapsed = (time.perf_counter() - started) * 1000
        connection.close()
        with lock:
            results.append((outcome[0], elapsed, outcome[1]))

    threads = [
        threading.Thread(target=register, args=(index, key))
        for index, key in enumerate(session_keys)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument(
        "--rate", type=float, help="requests per second (default: all at the same instant)"
    )
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--workers", type=int, help="GUNICORN_WORKERS (default: the config's)")
    args = parser.parse_args()

    secret_key = secrets.token_urlsafe(50)
    settings.SECRET_KEY = secret_key  # the server signs and checks sessions with the same key
    warm_up_event = event_create(seats=args.seats)
    event = event_create(seats=args.seats)
    session_keys = sessions_create(students=args.requests)
    with BenchServer(port=args.port, workers=args.workers, env={"SECRET_KEY": secret_key}):
        # A pod in service has warm workers (database connections, templates, code paths):
        # 50 registrations for another event, 10 at a time, before the measured ones.
        warm_up = session_keys[:50]
        for start in range(0, len(warm_up), 10):
            register_all(
                port=args.port, event_id=warm_up_event.pk, session_keys=warm_up[start : start + 10]
            )
        started = time.perf_counter()
        results = register_all(
            port=args.port, event_id=event.pk, session_keys=session_keys, rate=args.rate
        )
        seconds = time.perf_counter() - started

    expected = f"/events/{event.pk}/"
    errors = [result for result in results if result[0] != 302 or result[2] != expected]
    confirmed = event.registrations.filter(status=EventRegistration.Status.CONFIRMED).count()
    waitlisted = event.registrations.filter(status=EventRegistration.Status.WAITLISTED).count()
    event.refresh_from_db()
    latencies = [milliseconds for _, milliseconds, _ in results]
    print(machine_line() + "\n")
    arrival = f"at {args.rate:g}/s" if args.rate else "all at the same instant"
    print(f"{args.requests} POST /events/<id>/register {arrival}, {args.seats} seats:\n")
    print(
        "| confirmed | waitlisted | seats_taken | errors | all answered in s "
        "| p50 ms | p95 ms | p99 ms | max ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {confirmed} | {waitlisted} | {event.seats_taken} | {len(errors)} | {seconds:.1f} | "
        f"{statistics.median(latencies):.0f} | {percentile(latencies, 0.95):.0f} | "
        f"{percentile(latencies, 0.99):.0f} | {max(latencies):.0f} |"
    )
    for status, _, detail in errors[:5]:
        print(f"error: status {status} {detail[:200]}")
    if confirmed != args.seats or errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
