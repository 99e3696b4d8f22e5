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

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_wt25 \
        python -m bench.page_cache_benchmark --signed-in --workers 2 --seconds 5 --rounds 3

--signed-in (issue 25) measures the pages a signed-in student sees instead (bench.signed_in:
home, event detail over 100 upcoming events, My events, My E-score, the leaderboard, the
account page; the organizer dashboard as the organizer), each with the session cookie of a
login through allauth's form, on bench.server's production settings (rate limits off).
Every page's wrk run comes right after a /health run, and its ratio is to that run. The
demo accounts of `manage.py seed_demo` are the default; --student/--organizer/--password
name others (the generated database's student1@bench.wustl.edu and washu-bench, say;
--organizer "" leaves the dashboard out).
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.server import BenchServer
from bench.signed_in import (
    DEMO_EMAILS,
    DEMO_PASSWORD,
    DETAIL,
    SIGNED_IN_PAGES,
    detail_paths_http,
    session_cookie,
)

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


# Walks a list of paths, every thread from its own offset (the -H headers go with each).
_WALK_LUA = """
paths = {%s}
counter = 0
setup = function(thread) thread:set("offset", math.random(1, #paths)) end
init = function(args) counter = tonumber(offset) or 1 end
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    cookie: str | None = None,
    paths: list[str] | None = None,
) -> float:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    script = None
    if paths:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(_WALK_LUA % ", ".join(f'"{path}"' for path in paths))
        script.close()
        command += ["-s", script.name]
    try:
        output = subprocess.run(
            [*command, url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    finally:
        if script:
            Path(script.name).unlink()
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
    parser.add_argument("--workers", type=int, help="GUNICORN_WORKERS (default: the config's)")
    parser.add_argument("--signed-in", action="store_true", help="the signed-in pages")
    parser.add_argument("--student", default=DEMO_EMAILS["student"])
    parser.add_argument("--organizer", default=DEMO_EMAILS["organizer"])
    parser.add_argument("--password", default=DEMO_PASSWORD)
    arguments = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    if arguments.signed_in:
        signed_in(arguments)
        return
    if arguments.workers:
        os.environ["GUNICORN_WORKERS"] = str(arguments.workers)

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


def _check_page(base: str, path: str, cookie: str) -> int:
    """The page answers 200 to this cookie (not a redirect to the login); its size."""
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        body = response.read()
        if response.status != 200 or response.geturl() != base + path:
            raise SystemExit(f"{path}: {response.status} at {response.geturl()}, not the page")
    return len(body)


def signed_in(arguments: argparse.Namespace) -> None:
    """Each signed-in page right after /health, round after round; ratios per pair."""
    measure = {"seconds": arguments.seconds, "connections": arguments.connections}
    measure["threads"] = arguments.threads
    server = BenchServer(
        port=free_port(), workers=arguments.workers, env={"GUNICORN_ACCESSLOG": "/dev/null"}
    )
    with server:
        base = server.url
        cookies = {
            "student": session_cookie(base, email=arguments.student, password=arguments.password)
        }
        if arguments.organizer:
            cookies["organizer"] = session_cookie(
                base, email=arguments.organizer, password=arguments.password
            )
        details = detail_paths_http(base)
        pages = [(name, role, path) for name, role, path in SIGNED_IN_PAGES if role in cookies]
        sizes = {}
        for name, role, path in pages:
            sizes[name] = _check_page(base, details[0] if path == DETAIL else path, cookies[role])
        health: dict[str, list[float]] = {name: [] for name, _role, _path in pages}
        rates: dict[str, list[float]] = {name: [] for name, _role, _path in pages}
        load_before = os.getloadavg()
        for _ in range(arguments.rounds):
            for name, role, path in pages:
                health[name].append(wrk(base + "/health", **measure))
                rates[name].append(
                    wrk(
                        base + (details[0] if path == DETAIL else path),
                        cookie=cookies[role],
                        paths=details if path == DETAIL else None,
                        **measure,
                    )
                )
        load_after = os.getloadavg()
        workers = len(server.worker_pids())

    median = statistics.median
    print(f"database: {os.environ.get('DATABASE_URL', '(default)')}")
    print(
        f"gunicorn: {workers} workers; wrk -t{arguments.threads} -c{arguments.connections} "
        f"-d{arguments.seconds}s, {arguments.rounds} rounds; signed in as {arguments.student}"
        + (f" (dashboard: {arguments.organizer})" if arguments.organizer else "")
        + "\n"
    )
    print("| page (signed in) | requests/s | /health in the same rounds | ÷ /health | bytes |")
    print("|---|---:|---:|---:|---:|")
    for name, _role, _path in pages:
        ratios = [page / base for page, base in zip(rates[name], health[name], strict=True)]
        print(
            f"| {name} | {median(rates[name]):,.0f} | {median(health[name]):,.0f} | "
            f"{median(ratios):.3f} | {sizes[name]:,} |"
        )
    print(
        "\nper-round ratios: "
        + "; ".join(
            f"{name} "
            + ", ".join(
                f"{page / base:.2f}" for page, base in zip(rates[name], health[name], strict=True)
            )
            for name, _role, _path in pages
        )
    )
    print(
        f"load average before: {load_before[0]:.2f}, after: {load_after[0]:.2f} "
        f"{load_after[1]:.2f} {load_after[2]:.2f}"
    )


if __name__ == "__main__":
    main()
