"""`manage.py analyze_database`: refresh the planner's statistics after a restore or bulk load."""

import time
from typing import Any

from django.core.management.base import BaseCommand

from core.db import analyze


class Command(BaseCommand):
    help = "ANALYZE every table (after pg_restore, a major upgrade or a bulk import)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        analyze()
        self.stdout.write(f"Analysed every table in {time.monotonic() - started:.1f} s.")
