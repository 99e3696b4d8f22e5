"""Throughput of the cached anonymous event list against a trivial view, on one gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_bench_5k \\
        python -m bench.page_cache_benchmark --seconds 10 --rounds 3

Starts gunicorn from gunicorn.conf.py on a free loopback port (access log off, DEBUG off,
a Redis key prefix of its own), then alternates `wrk` runs against `/health` (the trivial
view: every middleware, no I/O) and `/` (the home page as an anonymous visitor, served from
the Redis page cache after the first request). Prints requests/s of each (median of the
rounds), their ratio and the load average. Rounds alternate the two URLs, so the median of
the per-round ratios is the figure least moved by other work on the machine. The issue asks
for a ratio of at least 0.6.
Traffic stays on 127.0.0.1; every run is bounded by --seconds.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIVIAL, CACHED = "/health", "/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + TRIVIAL, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer /health in time")


def wrk(url: str, *, seconds: int, connections: int, threads: int) -> float:
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESSLOG": "/dev/null",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "CACHE_KEY_PREFIX": f"eren-bench-pages-{port}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "eren.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(base)
        with urllib.request.urlopen(base + CACHED, timeout=10) as response:  # noqa: S310
            page = response.read()
            cache_control = response.headers["Cache-Control"]
        assert b'class="card"' in page, "the home page lists no events: generate some first"
        assert "public" in cache_control, cache_control
        results: dict[str, list[float]] = {TRIVIAL: [], CACHED: []}
        for _ in range(arguments.rounds):
            for path in (TRIVIAL, CACHED):
                results[path].append(
                    wrk(
                        base + path,
                        seconds=arguments.seconds,
                        connections=arguments.connections,
                        threads=arguments.threads,
                    )
                )
        load = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=30)

    trivial = statistics.median(results[TRIVIAL])
    cached = statistics.median(results[CACHED])
    print(f"workers: {os.environ.get('GUNICORN_WORKERS', 'gunicorn.conf.py default')}")
    cards = page.count(b'class="card"')
    print(f"page size: {len(page)} bytes, {cards} event cards")
    for path, label in ((TRIVIAL, "trivial /health"), (CACHED, "cached anonymous /")):
        runs = ", ".join(f"{value:.0f}" for value in results[path])
        print(f"{label}: median {statistics.median(results[path]):.0f} req/s ({runs})")
    # Each round runs the two back to back, so a round's ratio sees the same machine load.
    ratios = [c / t for c, t in zip(results[CACHED], results[TRIVIAL], strict=True)]
    print(f"ratio of medians cached / trivial: {cached / trivial:.2f}")
    print(f"median of per-round ratios: {statistics.median(ratios):.2f}")
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
