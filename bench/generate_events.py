"""Fill a benchmark database with N generated events, fast (COPY), reproducibly (seeded).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_bench_500k \
        python -m bench.generate_events --events 500000 --reset
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_bench \
        python -m bench.generate_events --events 5000 --students 100000 --reset

--students adds the leaderboard benchmark's students and their score ledger (SQL
generate_series), about three registrations each on upcoming events, and makes every student
able to log in for the load test: one password (BENCH_PASSWORD) hashed once and copied to
every row, and a verified allauth e-mail address each.

Creates and migrates the database when needed. Refuses any database whose name does not
start with "eren_bench", so it can never empty a development or test database. Text follows
a Zipf-like word distribution (bench.vocabulary): "club", "meeting" and "free" are common,
generated tail words are rare.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time

import django
from django.contrib.auth.hashers import make_password

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eren.settings.base")
django.setup()

import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from psycopg import sql  # noqa: E402

from bench.leaderboard_benchmark import EMAIL_DOMAIN as STUDENT_EMAIL_DOMAIN  # noqa: E402
from bench.leaderboard_benchmark import data_create as students_and_scores_create  # noqa: E402
from bench.vocabulary import STOP_WORDS, ranked_words, zipf_cumulative_weights  # noqa: E402
from events.models import EventCategory  # noqa: E402
from events.search import CAMPUS_PLACES, search_words_refresh  # noqa: E402

CATEGORIES = [
    ("Academic", "academic"),
    ("Arts & Culture", "arts-culture"),
    ("Career", "career"),
    ("Community Service", "community-service"),
    ("Faith & Spirituality", "faith-spirituality"),
    ("Greek Life", "greek-life"),
    ("Health & Wellness", "health-wellness"),
    ("International", "international"),
    ("Music", "music"),
    ("Social", "social"),
    ("Sports & Recreation", "sports-recreation"),
    ("Tech & Innovation", "tech-innovation"),
]
OFF_CAMPUS_PLACES = [
    ("Forest Park Visitor Center", 38.6390, -90.2856),
    ("Downtown St. Louis", 38.6270, -90.1994),
    ("Chesterfield Amphitheater", 38.6631, -90.5771),
]
TITLE_KINDS = [
    "Meeting", "Workshop", "Social", "Night", "Talk", "Fair", "Practice", "Tournament",
    "Info Session", "Mixer", "Lecture", "Study Group", "Open House", "Showcase", "Game",
]  # fmt: skip
ORGANIZER_COUNT = 300
BENCH_EMAIL_DOMAIN = "bench.invalid"
# The load test logs students in with this password (bench/locustfile.py).
BENCH_PASSWORD = "washu-bench"  # noqa: S105 - a benchmark database's only password
COPY_COLUMNS = (
    "title", "description", "location_name", "address", "latitude", "longitude",
    "geocode_status", "starts_at", "ends_at", "capacity", "status", "cancellation_reason",
    "seats_taken", "waitlist_count", "created_at", "updated_at", "category_id", "organizer_id",
)  # fmt: skip


def _require_bench_database() -> None:
    name = connection.settings_dict["NAME"]
    if not name.startswith("eren_bench"):
        sys.exit(f"Refusing to touch database {name!r}: its name must start with 'eren_bench'.")


def _create_database_and_migrate() -> None:
    """Create the benchmark database when it is missing, then bring its schema up to date."""
    settings = connection.settings_dict
    server = {
        "dbname": "postgres",
        "host": settings["HOST"] or None,
        "port": settings["PORT"] or None,
        "user": settings["USER"] or None,
        "password": settings["PASSWORD"] or None,
    }
    with psycopg.connect(**server, autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (settings["NAME"],)
        ).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"])))
    call_command("migrate", interactive=False, verbosity=0)


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE events_eventregistration, escore_scoreentry, events_eventpost"
            " RESTART IDENTITY CASCADE"
        )
        cursor.execute("DELETE FROM users_user WHERE email LIKE %s", (f"%@{BENCH_EMAIL_DOMAIN}",))
        students = f"%@{STUDENT_EMAIL_DOMAIN}"
        cursor.execute("DELETE FROM account_emailaddress WHERE email LIKE %s", (students,))
        cursor.execute("DELETE FROM django_session")
        cursor.execute("DELETE FROM users_user WHERE email LIKE %s", (students,))


def _organizer_ids() -> list[int]:
    now = dt.datetime.now(dt.UTC)
    with connection.cursor() as cursor:
        for number in range(ORGANIZER_COUNT):
            cursor.execute(
                "INSERT INTO users_user (password, is_superuser, email, display_name, is_staff,"
                " is_active, date_joined, is_organizer, leaderboard_visibility, pseudonym,"
                " email_reminders)"
                " VALUES ('!', false, %s, %s, false, true, %s, true, 'public', '', true)"
                " ON CONFLICT DO NOTHING",
                (f"organizer{number}@{BENCH_EMAIL_DOMAIN}", f"Organizer {number}", now),
            )
        cursor.execute(
            "SELECT id FROM users_user WHERE email LIKE %s", (f"%@{BENCH_EMAIL_DOMAIN}",)
        )
        return [row[0] for row in cursor.fetchall()]


def _category_ids() -> list[int]:
    return [
        EventCategory.objects.get_or_create(slug=slug, defaults={"name": name})[0].pk
        for name, slug in CATEGORIES
    ]


def generate_rows(count: int, *, seed: int, now: dt.datetime, category_ids, organizer_ids):
    rng = random.Random(seed)
    words = ranked_words()
    cumulative = zipf_cumulative_weights(len(words))
    prose_words = STOP_WORDS + words
    prose_cumulative = zipf_cumulative_weights(len(prose_words))
    places = [(p.name, p.latitude, p.longitude) for p in CAMPUS_PLACES.values()]
    kinds = TITLE_KINDS
    for _ in range(count):
        title_words = rng.choices(words, cum_weights=cumulative, k=rng.randint(1, 3))
        title = " ".join(w.capitalize() for w in title_words) + " " + rng.choice(kinds)
        body = rng.choices(prose_words, cum_weights=prose_cumulative, k=rng.randint(25, 90))
        sentences = [" ".join(body[i : i + 12]).capitalize() + "." for i in range(0, len(body), 12)]
        roll = rng.random()
        if roll < 0.06:
            location, latitude, longitude = rng.choice(OFF_CAMPUS_PLACES)
            geocode_status = "found"
        elif roll < 0.16:
            location, latitude, longitude = "Room to be announced", None, None
            geocode_status = "not_found"
        else:
            location, latitude, longitude = rng.choice(places)
            geocode_status = "found"
        if latitude is not None:
            latitude += rng.uniform(-0.002, 0.002)
            longitude += rng.uniform(-0.002, 0.002)
        description = " ".join(sentences) + f" Find us at {location}."
        # 40% of events in the next 200 days, the rest in the past 300 days.
        starts_at = now + dt.timedelta(minutes=rng.randint(-300 * 1440, 200 * 1440))
        starts_at = starts_at.replace(second=0, microsecond=0)
        hours = rng.choice((1, 1, 1.5, 2, 2, 3, 4)) if rng.random() > 0.01 else rng.randint(24, 72)
        ends_at = starts_at + dt.timedelta(hours=hours)
        status_roll = rng.random()
        status = (
            "published" if status_roll < 0.9 else "draft" if status_roll < 0.96 else "cancelled"
        )
        # Events are posted a day to two months ahead, and rows are written in posting order,
        # so the table's physical order follows starts_at loosely, as in production.
        created_at = min(now, starts_at - dt.timedelta(minutes=rng.randint(1440, 60 * 1440)))
        capacity = rng.choice((None, 20, 30, 50, 100, 200))
        seats_taken = 0 if capacity is None else rng.randint(0, capacity)
        yield (
            title[:200],
            description,
            location,
            "",
            latitude,
            longitude,
            geocode_status,
            starts_at,
            ends_at,
            capacity,
            status,
            "Organizer cancelled." if status == "cancelled" else "",
            seats_taken,
            0,
            created_at,
            created_at,
            rng.choice(category_ids),
            rng.choice(organizer_ids),
        )


def load(count: int, *, seed: int) -> None:
    now = dt.datetime.now(dt.UTC)
    category_ids = _category_ids()
    organizer_ids = _organizer_ids()
    rows = sorted(
        generate_rows(
            count, seed=seed, now=now, category_ids=category_ids, organizer_ids=organizer_ids
        ),
        key=lambda row: row[COPY_COLUMNS.index("created_at")],
    )
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        copy_sql = f"COPY events_eventpost ({', '.join(COPY_COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)


def students_load(count: int) -> None:
    """Students with scores, registrations in proportion, and a way to log in."""
    students_and_scores_create(students=count)
    password = make_password(BENCH_PASSWORD)  # PBKDF2 once, not once a row
    students = f"student%@{STUDENT_EMAIL_DOMAIN}"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE users_user SET password = %s WHERE email LIKE %s", (password, students)
        )
        cursor.execute(
            'INSERT INTO account_emailaddress (user_id, email, verified, "primary")'
            " SELECT id, email, true, true FROM users_user WHERE email LIKE %s"
            " ON CONFLICT DO NOTHING",
            (students,),
        )
        # 0 to 6 registrations a student (3 on average) on upcoming published events; the
        # first `capacity` of an event are confirmed, the rest waitlisted, and the event's
        # counters match its rows, as registration_create would leave them.
        cursor.execute(
            "SELECT array_agg(id ORDER BY id) FROM events_eventpost"
            " WHERE status = 'published' AND starts_at > now()"
        )
        (upcoming,) = cursor.fetchone()
        if not upcoming:
            return
        cursor.execute(
            """
            INSERT INTO events_eventregistration (status, registered_at, created_at, updated_at,
                event_id, user_id)
            SELECT 'confirmed', now(), now(), now(),
                (%(events)s::bigint[])[1 + ((u.id * 7919 + k * 104729) %% %(n)s)], u.id
            FROM users_user u CROSS JOIN LATERAL generate_series(1, (u.id * 13) %% 7) AS k
            WHERE u.email LIKE %(students)s
            ON CONFLICT DO NOTHING
            """,
            {"events": upcoming, "n": len(upcoming), "students": students},
        )
        cursor.execute(
            """
            WITH ranked AS (
                SELECT r.id, e.capacity,
                    row_number() OVER (PARTITION BY r.event_id ORDER BY r.id) AS place
                FROM events_eventregistration r JOIN events_eventpost e ON e.id = r.event_id
            )
            UPDATE events_eventregistration r SET status = 'waitlisted'
            FROM ranked
            WHERE ranked.id = r.id AND ranked.capacity IS NOT NULL
                AND ranked.place > ranked.capacity
            """
        )
        cursor.execute(
            """
            UPDATE events_eventpost e
            SET seats_taken = counts.confirmed, waitlist_count = counts.waitlisted
            FROM (
                SELECT event_id, count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
                    count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted
                FROM events_eventregistration GROUP BY event_id
            ) AS counts
            WHERE counts.event_id = e.id
            """
        )
        cursor.execute("ANALYZE events_eventregistration; ANALYZE account_emailaddress")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument(
        "--students", type=int, default=0, help="students with scores and registrations"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reset", action="store_true", help="empty the event tables first")
    parser.add_argument("--reset-only", action="store_true")
    arguments = parser.parse_args()
    _require_bench_database()
    _create_database_and_migrate()

    started = time.monotonic()
    if arguments.reset or arguments.reset_only:
        reset()
        print(f"reset in {time.monotonic() - started:.1f}s")
    if arguments.reset_only:
        return
    load(arguments.events, seed=arguments.seed)
    print(f"copied {arguments.events} events in {time.monotonic() - started:.1f}s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE events_eventpost")
        cursor.execute("ANALYZE events_eventcategory")
    search_words_refresh()
    print(f"done (vacuum, analyze, search words) in {time.monotonic() - started:.1f}s")
    if arguments.students:
        from escore.services import leaderboard_rebuild

        students_load(arguments.students)
        leaderboard_rebuild()
        print(
            f"{arguments.students} students, scores, registrations, logins and leaderboard"
            f" in {time.monotonic() - started:.1f}s"
        )


if __name__ == "__main__":
    main()
