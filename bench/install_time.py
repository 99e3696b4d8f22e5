"""Cold install of requirements/dev.txt into an empty venv: pip against uv, as `make venv` does.

    python3 -m bench.install_time --rounds 3      # or: make bench-install

Each round makes a new venv with the interpreter's own (bundled) pip and empty download
caches, so every wheel comes over the network, and times three ways to install the lock:

- `pip resolve`: the bundled pip upgraded to the lock's pip first, then `pip install
  --require-hashes -r dev.txt` (pip resolves the lock's dependencies again; the bundled pip
  alone fails there once the index serves a newer coverage);
- `pip --no-deps`: the same, but nothing is resolved;
- `uv sync` (what `make venv` does): the bundled pip installs the hash-pinned uv, which syncs
  the venv to the lock.

Machine pip settings (extra indexes, find-links) are switched off for all three, so each
installer reads the same index. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.txt"
BOOTSTRAP = ROOT / "requirements" / "bootstrap.txt"


def pinned_pip_requirement() -> str:
    """The lock's own `pip==…` entry with its hashes, as a requirements file."""
    match = re.search(r"^pip==\S+(?: \\\n\s+--hash=\S+)+", LOCK.read_text(), re.M)
    if match is None:
        sys.exit("the lock pins no pip")
    return match.group(0) + "\n"


def run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


def one_round(python: str, way: str) -> float:
    with tempfile.TemporaryDirectory(prefix="eren-install-") as work:
        work_path = Path(work)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))},
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_CACHE_DIR": str(work_path / "pip-cache"),
            "UV_CACHE_DIR": str(work_path / "uv-cache"),
        }
        venv = work_path / "venv"
        started = time.perf_counter()
        run([python, "-m", "venv", str(venv)], env)
        venv_python = str(venv / "bin" / "python")
        pip = [venv_python, "-m", "pip", "install", "--quiet", "--require-hashes"]
        if way == "uv sync":
            run([*pip, "--no-deps", "-r", str(BOOTSTRAP)], env)
            uv = str(venv / "bin" / "uv")
            run([uv, "pip", "sync", "--quiet", "--python", venv_python, str(LOCK)], env)
        else:
            pinned_pip = work_path / "pip.txt"
            pinned_pip.write_text(pinned_pip_requirement())
            run([*pip, "--no-deps", "-r", str(pinned_pip)], env)
            no_deps = ["--no-deps"] if way == "pip --no-deps" else []
            run([*pip, *no_deps, "-r", str(LOCK)], env)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python", default=os.environ.get("PYTHON", "python3"))
    arguments = parser.parse_args()
    ways = ["pip resolve", "pip --no-deps", "uv sync"]
    times: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(arguments.rounds):
        for way in ways:  # interleaved, so a slow minute of the machine hits all three
            times[way].append(one_round(arguments.python, way))
    print(f"cold install of {LOCK.relative_to(ROOT)} with {arguments.python}, seconds")
    print("| way | median | runs |")
    print("|---|---:|---|")
    for way in ways:
        runs = ", ".join(f"{t:.1f}" for t in times[way])
        print(f"| {way} | {statistics.median(times[way]):.1f} | {runs} |")


if __name__ == "__main__":
    main()
