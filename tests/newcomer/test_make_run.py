"""`make run` as a newcomer meets it: private servers, the demo site, then Ctrl-C.

The launcher runs for real (scripts/run_local.py, the script behind `make run`) with a
PostgreSQL and a Redis of its own on free ports, migrates, seeds the demo data and serves
through honcho. Then it gets what a terminal's Ctrl-C sends: SIGINT to its process group.
Every process it started must be gone afterwards, the private servers included.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from scripts.services import free_port, port_open, shared_temp_dir

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 300  # migrate + the whole demo seed on a 2-core machine
STOP_SECONDS = 60
# Set by pytest, pytest-django or pytest-cov for this process, not by a newcomer's shell.
NOT_A_NEWCOMERS = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ENV")


def _children_of() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def _descendants(pid: int) -> set[int]:
    children, found, todo = _children_of(), set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    """Running, not a zombie that only waits for its parent to read its status."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - a local URL
        return response.status, response.read().decode()


def _wait_for_health(process: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make run exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if _get(f"{base}/health")[0] == 200:
                return
        except OSError:
            time.sleep(1)
    pytest.fail(f"/health did not answer in {START_SECONDS} s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def run_dir():
    path = shared_temp_dir("eren-newcomer-")
    yield path
    # Whatever the test left running (it failed half-way) must not outlive it.
    pid_file = path / "postgres" / "postmaster.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
    shutil.rmtree(path, ignore_errors=True)


def test_make_run_serves_the_demo_site_and_ctrl_c_stops_everything(run_dir):
    web_port = free_port()
    base = f"http://127.0.0.1:{web_port}"
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in NOT_A_NEWCOMERS and not name.startswith(("COV_CORE_", "PYTEST_"))
    }
    environment |= {
        "EREN_RUN_DIR": str(run_dir),
        "EREN_PRIVATE_SERVICES": "1",
        "EREN_PG_PORT": "0",
        "EREN_REDIS_PORT": "0",
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "STATIC_ROOT": str(run_dir / "static"),
    }
    log = run_dir / "make-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_local.py"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    try:
        _wait_for_health(process, base, log)

        status, home = _get(f"{base}/")
        assert status == 200
        event_path = re.search(r'href="(/events/\d+/[^"]*)"', home).group(1)
        status, search = _get(f"{base}/search/?q=robotics")
        assert status == 200
        assert "Robotics" in search
        status, event = _get(f"{base}{event_path}")
        assert status == 200
        assert "<dt>When</dt>" in event

        started = _descendants(process.pid)
        commands = " | ".join(_command_line(pid) for pid in started)
        for expected in ("gunicorn", "eren worker", "eren beat", "redis-server"):
            assert expected in commands, f"{expected} is not running: {commands}"
        postmaster = int((run_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        started.add(postmaster)

        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=STOP_SECONDS)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    left = {pid: _command_line(pid) for pid in started if _alive(pid)}
    assert left == {}, log.read_text()[-4000:]
    assert not port_open("127.0.0.1", web_port)
    assert not (run_dir / "postgres" / "postmaster.pid").exists()
