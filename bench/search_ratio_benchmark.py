"""Suggestions, API search and the uncached search page as a ratio to /health, with wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/eren_bench_5k \\
        python -m bench.search_ratio_benchmark --seconds 10 --rounds 3

One gunicorn as production runs it (bench.server.BenchServer) with the anonymous page cache
off (ANONYMOUS_PAGE_CACHE_SECONDS=0), so every search page is rendered. The did-you-mean
words and the suggestions' prefix index are rebuilt first (manage.py search_index_rebuild).
Each round runs wrk against /health, then each measured URL; a wrk Lua script walks a list of
varied requests (every thread from its own offset), so no two consecutive requests repeat:
- suggestions: prefixes of 2 to 6 letters of words drawn Zipf-wise from the generated text,
  a third of them with a complete word before (`jazz ni`), as a student types;
- API search and the search page: one or two words drawn the same way, some with a typo.
Prints each URL's requests/s (median of rounds), latency, and the median of the per-round
ratios to /health (each round measures /health right before, under the same machine load).
The profile of where the time goes is `python -m bench.search_profile`.

Searches run as deployed, with the search result cache (SEARCH_RESULT_CACHE_SECONDS, 30 s;
events/search/result_cache.py): a query asked again within 30 s reads only its page's rows.
The lists repeat queries as students do (Zipf), so part of each run is answered that way;
`--result-cache-seconds 0` measures every search computed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from bench.server import ROOT, BenchServer
from bench.vocabulary import ranked_words, zipf_cumulative_weights

HEALTH = "/health"


def _words(rng: random.Random, count: int) -> list[str]:
    words = ranked_words()[:3000]
    return rng.choices(words, cum_weights=zipf_cumulative_weights(len(words)), k=count)


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 5:
        return word
    position = rng.randrange(1, len(word) - 1)
    return word[:position] + word[position + 1 :]  # one letter dropped


def request_paths(kind: str, *, count: int = 2000, seed: int = 19) -> list[str]:
    rng = random.Random(seed)
    words = _words(rng, count * 2)
    paths = []
    for index in range(count):
        first, second = words[2 * index], words[2 * index + 1]
        if kind == "suggest":
            prefix = second[: rng.randint(2, 6)]
            q = f"{first} {prefix}" if index % 3 == 0 else prefix
            paths.append("/search/suggest?" + urlencode({"q": q}))
            continue
        q = f"{first} {second}" if index % 2 else first
        if index % 10 == 0:
            q = _typo(rng, q)
        path = "/api/v1/events?" if kind == "api" else "/search/?"
        paths.append(path + urlencode({"q": q}))
    return paths


_LUA = """
paths = {%s}
counter = 0
setup = function(thread) thread:set("offset", math.random(1, #paths)) end
init = function(args) counter = tonumber(offset) or 1 end
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def wrk(url: str, *, paths: list[str] | None, seconds: int, connections: int) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    script = None
    if paths:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(_LUA % ", ".join(f'"{path}"' for path in paths))
        script.close()
        command += ["-s", script.name]
    try:
        output = subprocess.run(
            [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    finally:
        if script:
            Path(script.name).unlink()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{output}")

    def latency(percentile: str) -> float:
        found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)", output, re.MULTILINE)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8119)
    parser.add_argument(
        "--result-cache-seconds",
        type=int,
        default=None,
        help="SEARCH_RESULT_CACHE_SECONDS for the server (default: the setting's, 30; 0: off)",
    )
    arguments = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    targets = {
        "suggestions /search/suggest": request_paths("suggest"),
        "API search /api/v1/events?q=": request_paths("api"),
        "search page /search/?q= (uncached)": request_paths("page"),
    }
    server_env = {"ANONYMOUS_PAGE_CACHE_SECONDS": "0"}
    if arguments.result_cache_seconds is not None:
        server_env["SEARCH_RESULT_CACHE_SECONDS"] = str(arguments.result_cache_seconds)
    # Five workers importing Django on a busy 2-core machine can take over a minute.
    server = BenchServer(port=arguments.port, env=server_env, startup_timeout=180.0)
    subprocess.run(
        [sys.executable, "manage.py", "search_index_rebuild"],
        cwd=ROOT,
        env={**server.environment(), "DJANGO_SETTINGS_MODULE": "bench.settings"},
        check=True,
    )
    results: dict[str, list[dict]] = {name: [] for name in targets}
    health: list[dict] = []
    ratios: dict[str, list[float]] = {name: [] for name in targets}
    with server:
        for _ in range(arguments.rounds):
            for name, paths in targets.items():
                base = wrk(
                    server.url + HEALTH,
                    paths=None,
                    seconds=arguments.seconds,
                    connections=arguments.connections,
                )
                measured = wrk(
                    server.url + paths[0],
                    paths=paths,
                    seconds=arguments.seconds,
                    connections=arguments.connections,
                )
                health.append(base)
                results[name].append(measured)
                ratios[name].append(measured["rps"] / base["rps"])
    load = os.getloadavg()

    print(f"database: {os.environ.get('DATABASE_URL', '(default)')}")
    print(
        f"search result cache seconds: {server_env.get('SEARCH_RESULT_CACHE_SECONDS', 'default')}"
    )
    for name, paths in targets.items():
        print(f"{name}: {len(set(paths))} distinct of {len(paths)} requests")
    print("| URL | requests/s | ÷ /health | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    median = statistics.median
    print(
        f"| /health | {median(r['rps'] for r in health):,.0f} | 1.00 |"
        f" {median(r['p50'] for r in health):.1f} | {median(r['p99'] for r in health):.1f} |"
    )
    for name, runs in results.items():
        print(
            f"| {name} | {median(r['rps'] for r in runs):,.0f} | {median(ratios[name]):.2f} |"
            f" {median(r['p50'] for r in runs):.1f} | {median(r['p99'] for r in runs):.1f} |"
        )
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
