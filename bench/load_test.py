"""The 200-user load test, its /health baseline and web worker memory; prints Markdown.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_bench \\
    REDIS_URL=redis://127.0.0.1:6379/12 python -m bench.load_test --users 200 --duration 60

Starts gunicorn as production does (bench.server), then runs locust headless on the same
machine: the trivial /health view, the event list and the search page each without think
time (their throughput, and the ratios to /health), the search page at a fixed rate
(--search-rate searches/s: its latency when not saturated), then the realistic mix of
bench/locustfile.py with --users for --duration (statistics reset once every student has
logged in, so the logins of the ramp-up are not in them). Worker RSS is read after the
warm-up and after the mix. A second server with the anonymous page cache off repeats
/health and the search page, so the cost of a search nobody made before is shown too.
Fill the database first: python -m bench.generate_events --events 5000 --students 100000.
--search-only measures /health and the search page alone, on a database without students
(the 500,000-event search database of `make bench-search-data`).
--signed-in runs only the mix, with every user a logged-in student (SignedInStudent; issue 25:
p95 ≤ 50 ms, no errors), after a /health baseline on the same server.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.server import ROOT, BenchServer


def locust_run(
    server: BenchServer,
    classes: list[str],
    *,
    users: int,
    duration: int,
    processes: int = 1,
    env: dict[str, str] | None = None,
    reset_stats: bool = True,
    spawn_rate: int | None = None,
) -> dict[str, dict[str, float]]:
    """Run locust headless; return its statistics by request name ("Aggregated" included)."""
    with tempfile.TemporaryDirectory(prefix="eren-locust-") as directory:
        prefix = Path(directory) / "run"
        command = [
            str(Path(sys.executable).with_name("locust")),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate or max(users // 4, 1)),
            "--run-time",
            f"{duration}s",
            "--host",
            server.url,
            "--only-summary",
            "--csv",
            str(prefix),
            "--loglevel",
            "WARNING",
        ]
        if reset_stats:
            command.append("--reset-stats")
        if processes > 1:
            command += ["--processes", str(processes)]
        subprocess.run(
            [*command, *classes],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            check=False,  # exit code 1 means failures; they are reported, not raised
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=duration + 60,
        )
        with open(f"{prefix}_failures.csv", newline="") as failures:
            for row in list(csv.DictReader(failures))[:5]:
                print(
                    f"failure: {row['Method']} {row['Name']}: {row['Error']} "
                    f"({row['Occurrences']} times)",
                    file=sys.stderr,
                )
        with open(f"{prefix}_stats.csv", newline="") as stats:
            return {row["Name"]: _numbers(row) for row in csv.DictReader(stats)}


def _numbers(row: dict[str, str]) -> dict[str, float]:
    numbers = {"50%": float("nan"), "95%": float("nan"), "99%": float("nan")}
    for key, value in row.items():
        try:
            numbers[key] = float(value)
        except (TypeError, ValueError):
            continue
    return numbers


def machine_line() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · {platform.node()} · "
        f"{os.cpu_count()} cores · Python {platform.python_version()} · load average {load}"
    )


def _saturation(server: BenchServer, args, pages) -> dict[str, dict[str, float]]:
    return {
        name: locust_run(
            server,
            [user_class],
            users=args.baseline_users,
            duration=args.baseline_duration,
            processes=args.processes,
        )["Aggregated"]
        for name, user_class in pages
    }


def _paced_search(server: BenchServer, args) -> dict[str, float]:
    return locust_run(
        server,
        ["PacedSearchUser"],
        users=args.search_rate,
        duration=args.search_rate_duration,
        processes=args.processes,
    )["Aggregated"]


def _rss_line(rss: dict[int, float]) -> str:
    values = ", ".join(f"{value:.0f}" for value in sorted(rss.values()))
    return f"{values} (max {max(rss.values(), default=0):.0f})"


def _ratio(rate: float, hello_rate: float) -> str:
    # A run too short for its machine can end before /health answered at all.
    return f"{rate / hello_rate:.2f}" if hello_rate else "n/a (no /health requests)"


def _mix_table(mix: dict[str, dict[str, float]]) -> None:
    print("| request | count | requests/s | p50 ms | p95 ms | p99 ms | failures |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, stats in mix.items():
        print(
            f"| {name} | {stats['Request Count']:.0f} | {stats['Requests/s']:.1f} | "
            f"{stats['50%']:.0f} | {stats['95%']:.0f} | {stats['99%']:.0f} | "
            f"{stats['Failure Count']:.0f} |"
        )


def signed_in_mix(args) -> None:
    """/health at saturation, then the mix with every user a logged-in student."""
    server = BenchServer(port=args.port, workers=args.workers, startup_timeout=180)
    # One SECRET_KEY for the server and the sessions made for it beforehand (bench.signed_in):
    # 200 logins at once are 200 PBKDF2 hashes, which a busy 2-core machine takes minutes on.
    server.extra_env["SECRET_KEY"] = server.environment()["SECRET_KEY"]
    with tempfile.TemporaryDirectory(prefix="eren-sessions-") as directory, server:
        sessions = Path(directory) / "sessions"
        subprocess.run(
            [sys.executable, "-m", "bench.signed_in", "sessions", str(args.users), str(sessions)],
            cwd=ROOT,
            env=server.environment(),
            check=True,
        )
        hello = _saturation(server, args, [("/health (hello)", "HelloUser")])["/health (hello)"]
        mix = locust_run(
            server,
            ["SignedInStudent"],
            users=args.users,
            duration=args.duration,
            processes=args.processes,
            spawn_rate=args.spawn_rate,
            env={"BENCH_SESSIONS_FILE": str(sessions)},
        )
        workers = len(server.worker_pids())
    print(f"After: {machine_line()}\n")
    print(
        f"Mix, {args.users} users, every one a logged-in student, {workers} gunicorn workers, "
        f"a {args.duration} s run measured from when every student had logged in "
        f"(/health alone: {hello['Requests/s']:.0f} requests/s):\n"
    )
    _mix_table(mix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=int, default=60, help="seconds of the mix")
    parser.add_argument("--baseline-users", type=int, default=50)
    parser.add_argument("--baseline-duration", type=int, default=15)
    parser.add_argument("--search-rate", type=int, default=50, help="paced searches per second")
    parser.add_argument("--search-rate-duration", type=int, default=30)
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="only /health and the search page (a database without students, e.g. 500k events)",
    )
    parser.add_argument(
        "--signed-in", action="store_true", help="only the mix, every user signed in"
    )
    parser.add_argument("--processes", type=int, default=1, help="locust worker processes")
    parser.add_argument(
        "--spawn-rate", type=int, help="users started per second (default: a quarter of them)"
    )
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, help="GUNICORN_WORKERS (default: the config's)")
    args = parser.parse_args()

    print(f"Before: {machine_line()}\n")
    if args.signed_in:
        signed_in_mix(args)
        return
    pages = [("/health (hello)", "HelloUser")]
    if not args.search_only:
        pages.append(("/ (event list)", "EventListUser"))
    pages.append(("/search/?q=", "SearchUser"))
    # As production runs: anonymous pages cached for 5 minutes (cold at the start).
    with BenchServer(port=args.port, workers=args.workers) as server:
        cached = _saturation(server, args, pages)
        paced_cached = _paced_search(server, args)
        warm_rss = server.worker_rss_mb()
        mix = None
        if not args.search_only:
            mix = locust_run(
                server,
                ["Visitor", "Student"],
                users=args.users,
                duration=args.duration,
                processes=args.processes,
                spawn_rate=args.spawn_rate,
            )
        rss = server.worker_rss_mb()
        workers = len(server.worker_pids())
    # Every search rendered: what a search costs when no one searched for it before.
    uncached_env = {"ANONYMOUS_PAGE_CACHE_SECONDS": "0"}
    with BenchServer(port=args.port, workers=args.workers, env=uncached_env) as server:
        uncached = _saturation(server, args, [pages[0], pages[-1]])
        paced_uncached = _paced_search(server, args)

    print(f"After: {machine_line()}\n")
    print(
        f"Saturation, {args.baseline_users} users without think time, "
        f"{args.baseline_duration} s each, {workers} gunicorn workers:\n"
    )
    print("| page | page cache | requests/s | ÷ hello | p50 ms | p95 ms | p99 ms | failures |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, results in (("on, cold at start", cached), ("off", uncached)):
        hello_rps = results["/health (hello)"]["Requests/s"]
        for name, stats in results.items():
            print(
                f"| {name} | {label} | {stats['Requests/s']:.0f} | "
                f"{_ratio(stats['Requests/s'], hello_rps)} | {stats['50%']:.0f} | "
                f"{stats['95%']:.0f} | {stats['99%']:.0f} | {stats['Failure Count']:.0f} |"
            )
    print(
        f"\nSearch page at {args.search_rate} searches/s offered "
        f"({args.search_rate} users, a search every second on average, exponential pauses, "
        f"{args.search_rate_duration} s):\n"
    )
    print("| page cache | requests/s | p50 ms | p95 ms | p99 ms | max ms | failures |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, stats in (("on, cold at start", paced_cached), ("off", paced_uncached)):
        print(
            f"| {label} | {stats['Requests/s']:.1f} | {stats['50%']:.0f} | {stats['95%']:.0f} | "
            f"{stats['99%']:.0f} | {stats['Max Response Time']:.0f} | "
            f"{stats['Failure Count']:.0f} |"
        )
    if mix is not None:
        print(
            f"\nMix, {args.users} users, a {args.duration} s run, measured from when every "
            "student had logged in:\n"
        )
        print("| request | count | requests/s | p50 ms | p95 ms | p99 ms | failures |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, stats in mix.items():
            print(
                f"| {name} | {stats['Request Count']:.0f} | {stats['Requests/s']:.1f} | "
                f"{stats['50%']:.0f} | {stats['95%']:.0f} | {stats['99%']:.0f} | "
                f"{stats['Failure Count']:.0f} |"
            )
        total = mix["Aggregated"]
        hello_rps = cached["/health (hello)"]["Requests/s"]
        print(
            f"\nMix throughput ÷ hello: {_ratio(total['Requests/s'], hello_rps)} "
            f"({total['Requests/s']:.0f} ÷ {hello_rps:.0f} requests/s)."
        )
    print(f"\nWeb worker RSS after warm-up (the runs above), MB: {_rss_line(warm_rss)}.")
    if mix is not None:
        print(f"Web worker RSS after the mix, MB: {_rss_line(rss)}.")


if __name__ == "__main__":
    main()
