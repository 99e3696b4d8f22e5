"""The 200-user load test, its /health baseline and web worker memory; prints Markdown.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_bench \\
    REDIS_URL=redis://127.0.0.1:6379/12 python -m bench.load_test --users 200 --duration 60

Starts gunicorn as production does (bench.server), then runs locust headless on the same
machine: the trivial /health view, the event list and the search page each without think
time (their throughput, and the ratios to /health), then the realistic mix of
bench/locustfile.py with --users for --duration (statistics reset once every user has
started, so the logins of the ramp-up are not in them). Worker RSS is read after the mix.
Fill the database first: python -m bench.generate_events --events 5000 --students 100000.
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
            str(max(users // 4, 1)),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=int, default=60, help="seconds of the mix")
    parser.add_argument("--baseline-users", type=int, default=50)
    parser.add_argument("--baseline-duration", type=int, default=15)
    parser.add_argument("--processes", type=int, default=1, help="locust worker processes")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, help="GUNICORN_WORKERS (default: the config's)")
    args = parser.parse_args()

    print(f"Before: {machine_line()}\n")
    with BenchServer(port=args.port, workers=args.workers) as server:
        saturation = {}
        for name, user_class in (
            ("/health (hello)", "HelloUser"),
            ("/ (event list)", "EventListUser"),
            ("/search/?q=", "SearchUser"),
        ):
            stats = locust_run(
                server,
                [user_class],
                users=args.baseline_users,
                duration=args.baseline_duration,
                processes=args.processes,
            )
            saturation[name] = stats["Aggregated"]
        mix = locust_run(
            server,
            ["Visitor", "Student"],
            users=args.users,
            duration=args.duration,
            processes=args.processes,
        )
        rss = server.worker_rss_mb()
        workers = len(server.worker_pids())

    hello_rps = saturation["/health (hello)"]["Requests/s"]
    print(f"After: {machine_line()}\n")
    print(
        f"Saturation, {args.baseline_users} users without think time, "
        f"{args.baseline_duration} s each, {workers} gunicorn workers:\n"
    )
    print("| page | requests/s | ÷ hello | p50 ms | p95 ms | p99 ms | failures |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, stats in saturation.items():
        print(
            f"| {name} | {stats['Requests/s']:.0f} | {stats['Requests/s'] / hello_rps:.2f} | "
            f"{stats['50%']:.0f} | {stats['95%']:.0f} | {stats['99%']:.0f} | "
            f"{stats['Failure Count']:.0f} |"
        )
    print(f"\nMix, {args.users} users, {args.duration} s (after ramp-up):\n")
    print("| request | count | requests/s | p50 ms | p95 ms | p99 ms | failures |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, stats in mix.items():
        print(
            f"| {name} | {stats['Request Count']:.0f} | {stats['Requests/s']:.1f} | "
            f"{stats['50%']:.0f} | {stats['95%']:.0f} | {stats['99%']:.0f} | "
            f"{stats['Failure Count']:.0f} |"
        )
    total = mix["Aggregated"]
    print(
        f"\nMix throughput ÷ hello: {total['Requests/s'] / hello_rps:.2f} "
        f"({total['Requests/s']:.0f} ÷ {hello_rps:.0f} requests/s)."
    )
    memory = ", ".join(f"{value:.0f}" for value in sorted(rss.values()))
    print(f"Web worker RSS after the mix, MB: {memory} (max {max(rss.values(), default=0):.0f}).")


if __name__ == "__main__":
    main()
