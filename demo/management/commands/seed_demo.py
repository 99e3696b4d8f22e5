"""`manage.py seed_demo`: a believable WashU for local use (demo.seeding), created once."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from redis import RedisError

from core.db import analyze
from demo.seeding import demo_seed
from escore.services import leaderboard_rebuild
from events.search import search_words_refresh


class Command(BaseCommand):
    help = "Create WashU demo data: buildings, categories, organizers, students, events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=5000, help="Events (default 5000).")
        parser.add_argument("--students", type=int, default=800, help="Students (default 800).")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DJANGO_ENV=production."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DJANGO_ENV == "production" and not options["force"]:
            raise CommandError(
                "Refusing to create demo data with DJANGO_ENV=production: it would add "
                "thousands of fake events and students. Pass --force if you really mean it."
            )
        event_count: int = options["events"]
        student_count: int = options["students"]
        if event_count < 0 or student_count < 0:
            raise CommandError("--events and --students cannot be negative.")
        started = time.monotonic()
        with transaction.atomic():
            counts = demo_seed(event_count=event_count, student_count=student_count)
        # The planner's statistics of what was just loaded: without them it plans for empty
        # tables until autovacuum gets round to them, and the demo is slower than production.
        analyze()
        # "Did you mean" draws on the words of the titles just loaded.
        search_words_refresh()
        try:
            leaderboard_rebuild()
        except RedisError as error:
            # The ledger is committed; the beat reconcile (or rebuild_leaderboards) fills Redis.
            self.stderr.write(f"Leaderboards not rebuilt, Redis is unreachable: {error}")
        elapsed = time.monotonic() - started
        if counts.anything_created:
            self.stdout.write(
                f"Created {counts.events} events, {counts.students} students, "
                f"{counts.registrations} registrations, {counts.score_entries} score entries, "
                f"{counts.organizers} organizers, {counts.organizations} organizations, "
                f"{counts.demo_accounts} demo accounts and {counts.categories} categories "
                f"in {elapsed:.1f} s."
            )
        else:
            self.stdout.write("Demo data already complete: nothing to do.")
