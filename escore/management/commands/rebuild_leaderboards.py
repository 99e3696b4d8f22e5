"""`manage.py rebuild_leaderboards`: rebuild the Redis leaderboards from the ledger.

One aggregate query per scope (all time, current term), pipelined ZADDs in chunks into new
keys, then one atomic swap, so readers never see a half-built leaderboard.
"""

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from redis import RedisError
from tqdm import tqdm

from escore import services


class Command(BaseCommand):
    help = "Rebuild the E-score leaderboards (Redis) from the ledger (PostgreSQL)."

    def handle(self, *args: Any, **options: Any) -> None:
        bars: list[tqdm] = []

        def progress(scope: str, students: int):
            bar = tqdm(
                total=students,
                desc=f"Leaderboard {scope}",
                unit="student",
                file=sys.stderr,
                disable=None,
            )
            bars.append(bar)
            return bar.update

        started = time.monotonic()
        try:
            stored = services.leaderboard_rebuild(progress=progress)
        except RedisError as error:
            raise CommandError(f"Redis is unreachable, nothing was rebuilt: {error}") from error
        finally:
            for bar in bars:
                bar.close()
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{scope}: {count} students" for scope, count in stored.items())
        self.stdout.write(f"Rebuilt leaderboards ({summary}) in {elapsed:.1f} s.")
