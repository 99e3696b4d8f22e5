"""Where a signed-in page's milliseconds go: SQL (count and time), template, the rest.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_wt25 \\
        python -m bench.signed_in_profile --requests 200

In process (Django's test client, bench.settings), signed in as the demo student
(student@wustl.edu; the demo organizer for the dashboard), over the pages of issue 25: home,
event detail (varied upcoming events), My events, My E-score, the leaderboard, the account
page and the organizer dashboard, with /health as the yardstick. For each page: the mean
wall time per request, the SQL statements and their time (execute_wrapper), the template's
share (cProfile, so a share, not an absolute cost) and the rest (middleware, sessions,
views). The same requests over HTTP are bench.page_cache_benchmark --signed-in.
Other users: --student EMAIL, --organizer EMAIL (the generated database's accounts, say).
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
os.environ["STATIC_ROOT"] = str(static_root_collected(dict(os.environ)))  # the manifest

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.signed_in import SIGNED_IN_PAGES, detail_paths, signed_in_user  # noqa: E402


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


def _template_seconds(stats: pstats.Stats) -> float:
    total = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == "render" and filename.endswith("django/template/base.py"):
            total = max(total, cumulative)  # nested renders count once: the outermost
    return total


def profile(label: str, client: Client, paths: list[str]) -> dict[str, float]:
    for path in paths[:20]:  # warm-up: connections, templates, caches
        client.get(path)
    timer = SqlTimer()
    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
    wall = (time.perf_counter() - started) / len(paths) * 1000

    profiler = cProfile.Profile()
    profiler.enable()
    for path in paths:
        client.get(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    template = _template_seconds(stats) / stats.total_tt * wall  # type: ignore[attr-defined]
    sql = timer.seconds / len(paths) * 1000
    return {
        "wall": wall,
        "statements": timer.statements / len(paths),
        "sql": sql,
        "template": template,
        "rest": wall - sql - template,
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--student", default=None, help="default: the demo student")
    parser.add_argument("--organizer", default=None, help="default: the demo organizer")
    arguments = parser.parse_args()
    clients = {}
    for role, email in (("student", arguments.student), ("organizer", arguments.organizer)):
        clients[role] = Client()
        clients[role].force_login(signed_in_user(role=role, email=email))
    print(f"database: {connection.settings_dict['NAME']}, {arguments.requests} requests a page\n")
    print("| page | ms a request | SQL statements | SQL ms | template ms | rest ms | bytes |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rows = [("/health", "student", ["/health"] * arguments.requests)]
    for name, role, path in SIGNED_IN_PAGES:
        paths = (
            detail_paths(arguments.requests) if path == "detail" else [path] * arguments.requests
        )
        rows.append((name, role, paths))
    for name, role, paths in rows:
        result = profile(name, clients[role], paths)
        print(
            f"| {name} | {result['wall']:.2f} | {result['statements']:.1f} | {result['sql']:.2f} "
            f"| {result['template']:.2f} | {result['rest']:.2f} | {result['bytes']:,.0f} |"
        )


if __name__ == "__main__":
    main()
