"""Do the gunicorn workers share keep-alive load evenly? /health under wrk, worker by worker.

    python -m bench.worker_balance --runs 10 --seconds 3
    python -m bench.worker_balance --keepalive-seconds 30 --connections 64

Starts gunicorn from gunicorn.conf.py (bench.server, production settings, 2 workers unless
--workers) and measures two loads:

- consecutive short runs: `wrk -c16 -d3s` against /health, ten times; each run opens its
  connections anew, as wrk does, and keeps them alive to the end. Printed: requests/s of
  each run, the spread (max ÷ min - 1; the issue asks for at most 15%) and each worker's
  share of the CPU time the run cost (a /health request is CPU only, so the share is the
  share of the requests).
- one long keep-alive run, like the ALB's connections to a pod: 64 connections held for
  --keepalive-seconds, sampled every tenth of it. Printed per window: the workers' CPU
  seconds (the throughput) and the busiest worker's share.

Before gunicorn.conf.py closed a connection after `GUNICORN_KEEPALIVE_REQUESTS` requests,
one run in three gave one worker nearly every connection and /health fell to a third.
Traffic stays on 127.0.0.1.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

from bench.server import BenchServer

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process, from /proc/<pid>/stat."""
    seconds = {}
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        seconds[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


def wrk(url: str, *, seconds: int, connections: int) -> float:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def shares(before: dict[int, float], after: dict[int, float]) -> list[float]:
    used = [after[pid] - before[pid] for pid in before]
    total = sum(used) or 1.0
    return sorted((value / total for value in used), reverse=True)


def short_runs(server: BenchServer, arguments: argparse.Namespace) -> None:
    pids = server.worker_pids()
    rates = []
    print(f"Consecutive runs, wrk -t2 -c{arguments.connections} -d{arguments.seconds}s /health:\n")
    print("| run | requests/s | workers' CPU shares |")
    print("|---:|---:|---|")
    for run in range(1, arguments.runs + 1):
        before = cpu_seconds(pids)
        rate = wrk(
            f"{server.url}/health", seconds=arguments.seconds, connections=arguments.connections
        )
        split = shares(before, cpu_seconds(pids))
        rates.append(rate)
        print(f"| {run} | {rate:.0f} | {' / '.join(f'{share:.0%}' for share in split)} |")
    spread = max(rates) / min(rates) - 1
    print(
        f"\nmedian {statistics.median(rates):.0f} requests/s, min {min(rates):.0f}, "
        f"max {max(rates):.0f}: spread {spread:.0%} (goal ≤ 15%)\n"
    )


def keepalive_run(server: BenchServer, arguments: argparse.Namespace) -> None:
    pids = server.worker_pids()
    seconds = arguments.keepalive_seconds
    window = (seconds - 1) / 10
    result: list[float] = []
    connections = arguments.keepalive_connections
    load = threading.Thread(
        target=lambda: result.append(
            wrk(f"{server.url}/health", seconds=seconds, connections=connections)
        )
    )
    print(
        f"One keep-alive run, wrk -t2 -c{connections} -d{seconds}s /health, "
        f"in windows of {window:.0f} s:\n"
    )
    print("| window | workers' CPU s | busiest worker's share |")
    print("|---:|---:|---:|")
    load.start()
    time.sleep(0.5)  # the connections are open
    totals = []
    before = cpu_seconds(pids)
    for number in range(1, 11):
        time.sleep(window)
        after = cpu_seconds(pids)
        total = sum(after[pid] - before[pid] for pid in pids)
        totals.append(total)
        print(f"| {number} | {total:.2f} | {shares(before, after)[0]:.0%} |")
        before = after
    load.join()
    spread = max(totals) / min(totals) - 1
    print(f"\nwrk: {result[0]:.0f} requests/s; windows' spread {spread:.0%} (goal ≤ 15%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--keepalive-seconds", type=int, default=30)
    parser.add_argument("--keepalive-connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    env = {"GUNICORN_ACCESSLOG": "/dev/null"}
    with BenchServer(port=free_port(), workers=arguments.workers, env=env) as server:
        print(f"gunicorn: {arguments.workers} workers, threads and keep-alive from the config\n")
        short_runs(server, arguments)
        keepalive_run(server, arguments)


if __name__ == "__main__":
    main()
