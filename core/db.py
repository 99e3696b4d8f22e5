"""Database upkeep the application does itself."""

from django.db import connection


def analyze() -> None:
    """Refresh the planner's statistics of every table, after a bulk load.

    Autovacuum analyses a table only after enough changes and a while later; until then the
    planner believes a freshly loaded table is empty and picks plans for that (a suggestion
    query took 13 ms instead of 3 on the demo database). `seed_demo` and the benchmark
    generators call this; after a `pg_restore` or a major-version upgrade run
    `manage.py analyze_database` (docs/runbook.md). A few seconds for the pilot's size.
    """
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
