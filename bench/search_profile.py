"""Where a search request's milliseconds go: SQL, ORM rows, serialization, template, the rest.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_bench_5k \\
        python -m bench.search_profile --requests 300

In process (Django's test client, bench.settings, page cache off), over the same varied
requests as bench.search_ratio_benchmark. For each kind of request it prints the mean wall
time per request and its phases:
- SQL: from sending each statement to having its rows (execute_wrapper), with the count;
- rows → objects: Model.from_db and the search's own row → event (_event_from_values);
- serialization: django-ninja's response validation and JSON rendering (API only);
- template: Template.render (page only);
- the rest: middleware, URL routing, parsing, Python between the phases.
Phases other than SQL come from cProfile's cumulative times, which slow every function call,
so they are shares, not absolute costs; the wall time is measured without the profiler, and
so are the per-request p50/p95 (server time in process: every middleware, no HTTP).

Searches are profiled twice: "computed" with the search result cache off
(SEARCH_RESULT_CACHE_SECONDS=0), and "result cache" as deployed, each pass starting with the
cache empty, so only the mix's repeated queries are hits (the hit share is printed).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import time

from bench.server import static_root_collected

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("TRUSTED_PROXY_COUNT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("ADMIN_URL", "bench-admin/")
os.environ["ANONYMOUS_PAGE_CACHE_SECONDS"] = "0"
os.environ["STATIC_ROOT"] = str(static_root_collected(dict(os.environ)))  # the manifest

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from bench.search_ratio_benchmark import request_paths  # noqa: E402
from events.search import result_cache  # noqa: E402


class HitCounter:
    """Counts result cache lookups and hits (wraps result_cache.lookup)."""

    def __init__(self) -> None:
        self.lookups = 0
        self.hits = 0
        self._lookup = result_cache.lookup

    def __call__(self, key: str):
        hit, generation = self._lookup(key)
        self.lookups += 1
        self.hits += hit is not None
        return hit, generation


PHASES = {
    # Model.from_db, or the search's own row → event (which no longer calls it); once each.
    "rows → objects": ("from_db", "_event_from_values"),
    "result cache (Redis)": ("lookup", "store"),
    "serialization": ("_result_to_response", "render"),  # ninja: validate + JSONRenderer
    "template": ("Template.render",),
}


class SqlTimer:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.statements += 1


def _cumulative(stats: pstats.Stats, needle: str, *, kind: str) -> float:
    total = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if needle == "Template.render":
            if name == "render" and filename.endswith("django/template/base.py"):
                total = max(total, cumulative)  # nested renders count once: the outermost
        elif needle == "render" and kind == "api":
            if name == "render" and "ninja/renderers.py" in filename:
                total += cumulative
        elif needle == "_result_to_response":
            if name == needle and "ninja" in filename:
                total += cumulative
        elif needle in ("lookup", "store"):
            if name == needle and filename.endswith("search/result_cache.py"):
                total += cumulative
        elif name == needle and needle != "render":
            total += cumulative
    return total


def profile(kind: str, paths: list[str], *, label: str = "") -> None:
    client = Client()
    for path in paths[:20]:  # warm-up: connections, templates, caches
        client.get(path)
    timer = SqlTimer()
    hits = HitCounter()
    result_cache.lookup = hits  # type: ignore[assignment]
    result_cache.results_generation_bump()  # each pass starts with no cached results
    times = []
    try:
        with connection.execute_wrapper(timer):
            for path in paths:
                started = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, (path, response.status_code)
    finally:
        result_cache.lookup = hits._lookup  # type: ignore[method-assign]
    wall = sum(times) / len(paths)
    times.sort()
    p50, p95 = times[len(times) // 2] * 1000, times[int(len(times) * 0.95)] * 1000

    result_cache.results_generation_bump()
    profiler = cProfile.Profile()
    profiler.enable()
    for path in paths:
        client.get(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    profiled_total = stats.total_tt  # type: ignore[attr-defined]
    print(
        f"\n{kind}{label}: {len(paths)} requests, {wall * 1000:.2f} ms wall per request"
        f" (p50 {p50:.2f}, p95 {p95:.2f})"
    )
    if hits.lookups:
        print(f"  result cache hits: {hits.hits} of {hits.lookups}")
    sql_ms = timer.seconds / len(paths) * 1000
    print(f"  SQL: {sql_ms:.2f} ms ({timer.statements / len(paths):.1f} statements)")
    accounted = sql_ms
    for phase, needles in PHASES.items():
        seconds = sum(_cumulative(stats, needle, kind=kind) for needle in needles)
        if not seconds:
            continue
        share = seconds / profiled_total
        print(f"  {phase}: {share * wall * 1000:.2f} ms ({share:.0%} of profiled time)")
        accounted += share * wall * 1000
    print(f"  the rest (middleware, routing, Python): {wall * 1000 - accounted:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    arguments = parser.parse_args()
    print(f"database: {connection.settings_dict['NAME']}")
    # The yardstick: every middleware, no I/O; a request's cost beyond it is the view's.
    profile("health", ["/health"] * arguments.requests)
    profile("suggest", request_paths("suggest", count=arguments.requests))
    for kind in ("api", "page"):
        paths = request_paths(kind, count=arguments.requests)
        with override_settings(SEARCH_RESULT_CACHE_SECONDS=0):
            profile(kind, paths, label=" computed")
        profile(kind, paths, label=" with result cache")
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
