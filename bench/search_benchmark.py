"""Database time of events.search over a fixed query mix; prints a Markdown table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_bench_500k \
        python -m bench.search_benchmark --iterations 200

"Database time" of one search is the sum over every SQL statement it runs of either
- client: from sending the statement to having its rows (Django's execute_wrapper), so it
  includes the local round trip but not Python's work building the page; or
- server (--server): planning + execution time PostgreSQL reports for the same statements
  re-run under EXPLAIN (ANALYZE, TIMING OFF), which leaves out the client and the network.
The mix runs round-robin after a warm-up pass, so every query sees the same cache state.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eren.settings.base")
# Database time of each search: the same queries repeat, so the result cache stays off.
os.environ["SEARCH_RESULT_CACHE_SECONDS"] = "0"
django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.vocabulary import ranked_words  # noqa: E402
from events.search import event_search, event_suggest, parse_search_params  # noqa: E402


class SqlTimer:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.statements = 0
        self.sql: list[tuple[str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        # A client-side psycopg cursor has received every row when execute() returns.
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.statements += 1
            self.sql.append((sql, params))


def query_mix() -> dict[str, Callable[[], object]]:
    words = ranked_words()
    rare, rarer, mid = words[15_000], words[8_000], words[400]
    today = timezone.localdate()
    mix: dict[str, dict[str, str | list[str]]] = {
        f"rare term ({rare})": {"q": rare},
        f"rare term ({rarer})": {"q": rarer},
        f"mid term ({mid})": {"q": mid},
        "common term (club)": {"q": "club"},
        "two common terms (free meeting)": {"q": "free meeting"},
        "common or (club or free)": {"q": "club or free"},
        'phrase ("free pizza")': {"q": '"free pizza"'},
        "exclusion (club -meeting)": {"q": "club -meeting"},
        "common + category (free, music)": {"q": "free", "category": ["music"]},
        "common + near 1 km (club)": {"q": "club", "near": "olin-library", "radius_km": "1"},
        "sparse area: 1 km around 38.70,-90.40": {"near": "38.70,-90.40", "radius_km": "1"},
        "near Medical Campus 0.5 km": {"near": "medical-campus", "radius_km": "0.5"},
        "rare term + category": {"q": rare, "category": ["music"]},
        "near 2 km, distance sort": {
            "near": "olin-library",
            "radius_km": "2",
            "sort": "distance",
        },
        "common, sort by start (club)": {"q": "club", "sort": "start"},
        "no query (browse)": {},
        "date range, next week": {
            "from": str(today + dt.timedelta(days=7)),
            "to": str(today + dt.timedelta(days=13)),
        },
        "typo, did you mean (basketbll)": {"q": "basketbll"},
    }
    runs: dict[str, Callable[[], object]] = {
        name: (lambda data=data: event_search(parse_search_params(data)))
        for name, data in mix.items()
    }
    runs["common term, page 5"] = lambda: event_search(parse_search_params({"q": "club"}), page=5)
    runs["suggest (bask)"] = lambda: event_suggest("bask")
    runs["suggest (free p)"] = lambda: event_suggest("free p")
    return runs


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def server_milliseconds(statements: list[tuple[str, object]]) -> float:
    """Planning + execution time PostgreSQL reports for the statements, run again."""
    total = 0.0
    with connection.cursor() as cursor:
        for sql, params in statements:
            if sql.lstrip().upper().startswith("EXPLAIN"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql, params)
            (plan,) = cursor.fetchone()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            total += plan[0]["Planning Time"] + plan[0]["Execution Time"]
    return total


def run(iterations: int, *, server: bool) -> tuple[dict[str, list[float]], dict[str, int]]:
    runs = query_mix()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    statements: dict[str, int] = {}
    for search in runs.values():  # warm-up
        search()
    for _ in range(iterations):
        for name, search in runs.items():
            timer = SqlTimer()
            with connection.execute_wrapper(timer):
                search()
            elapsed = server_milliseconds(timer.sql) if server else timer.seconds * 1000
            samples[name].append(elapsed)
            statements[name] = timer.statements
    return samples, statements


def explain(name: str) -> None:
    """EXPLAIN ANALYZE every statement one search of `name` runs."""
    search = query_mix()[name]
    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        search()
    with connection.cursor() as cursor:
        for sql, params in timer.sql:
            if sql.lstrip().upper().startswith("EXPLAIN") or "pg_type" in sql:
                print(f"-- not analysed: {sql[:120]}", end="\n\n")
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print("\n".join(row[0] for row in cursor.fetchall()), end="\n\n")


def event_counts() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'published' AND ends_at > now())"
            " FROM events_eventpost"
        )
        return cursor.fetchone()


def report(
    samples: dict[str, list[float]], statements: dict[str, int], iterations: int, *, server: bool
) -> str:
    total, upcoming = event_counts()
    searches = [s for name, values in samples.items() if "suggest" not in name for s in values]
    lines = [
        f"Events: {total:,} ({upcoming:,} upcoming published) — database "
        f"{connection.settings_dict['NAME']} — {iterations} iterations per query — "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — {platform.node()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} — "
        f"{'server' if server else 'client'} time",
        "",
        "| query | SQL statements | best ms | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, values in samples.items():
        lines.append(
            f"| {name} | {statements[name]} | {min(values):.2f} | "
            f"{statistics.median(values):.2f} | "
            f"{percentile(values, 0.95):.2f} | {percentile(values, 0.99):.2f} | "
            f"{max(values):.2f} |"
        )
    lines.append(
        f"| **all searches** | | **{min(searches):.2f}** | **{statistics.median(searches):.2f}** | "
        f"**{percentile(searches, 0.95):.2f}** | **{percentile(searches, 0.99):.2f}** | "
        f"**{max(searches):.2f}** |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--explain", metavar="QUERY", help="EXPLAIN ANALYZE one query of the mix")
    parser.add_argument("--list", action="store_true", help="list the query names")
    parser.add_argument("--output", help="also write the table to this file")
    parser.add_argument(
        "--server", action="store_true", help="time with EXPLAIN ANALYZE instead of the client"
    )
    arguments = parser.parse_args()
    if not connection.settings_dict["NAME"].startswith("eren_bench"):
        sys.exit("Run the benchmark on a database whose name starts with 'eren_bench'.")
    if arguments.list:
        print("\n".join(query_mix()))
        return
    if arguments.explain:
        explain(arguments.explain)
        return
    samples, statements = run(arguments.iterations, server=arguments.server)
    table = report(samples, statements, arguments.iterations, server=arguments.server)
    print(table)
    if arguments.output:
        with open(arguments.output, "w") as output:
            output.write(table + "\n")


if __name__ == "__main__":
    main()
