"""gunicorn.conf.py as gunicorn runs it: keep-alive connections are recycled.

A connection is closed after GUNICORN_KEEPALIVE_REQUESTS requests, or once it is
GUNICORN_KEEPALIVE_MAX_SECONDS old, with "Connection: close"
on the last response so that no client (the ALB included) sends another request on it; the
next request comes through accept() again, where an idle worker can take it
(bench/worker_balance.py measures the balance this gives).
"""

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import database_url_for_subprocesses

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(tmp_path, settings: dict[str, str], *, pauses: list[float]) -> list[tuple]:
    """(status, Connection header, local port or None) of requests on one connection."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "eren.settings.test",
        "DATABASE_URL": database_url_for_subprocesses(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        **settings,
    }
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "eren.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        # Until a worker has booted, a connection waits in the listen backlog: wait for one
        # whole answer before timing anything.
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30)
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        answers = []
        for pause in pauses:
            time.sleep(pause)
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
            local_port = connection.sock.getsockname()[1] if connection.sock else None
            answers.append((response.status, response.getheader("Connection"), local_port))
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert [status for status, _, _ in answers] == [200] * len(pauses), log.read_text()
    return answers


def test_a_keep_alive_connection_is_closed_cleanly_after_its_last_request(tmp_path):
    settings = {"GUNICORN_KEEPALIVE_REQUESTS": "3", "GUNICORN_KEEPALIVE_MAX_SECONDS": "0"}
    answers = _answers(tmp_path, settings, pauses=[0, 0, 0, 0])
    # Requests 1 and 2 kept the connection; the third said close and the client let go of it.
    assert [header for _, header, _ in answers[:3]] == ["keep-alive", "keep-alive", "close"]
    assert answers[0][2] == answers[1][2] is not None
    assert answers[2][2] is None


def test_a_keep_alive_connection_is_closed_cleanly_once_it_is_old(tmp_path):
    # However few requests it carries: a slow connection is recycled too.
    settings = {"GUNICORN_KEEPALIVE_REQUESTS": "100", "GUNICORN_KEEPALIVE_MAX_SECONDS": "0.5"}
    answers = _answers(tmp_path, settings, pauses=[0, 0, 0.6, 0])
    assert [header for _, header, _ in answers] == [
        "keep-alive",
        "keep-alive",
        "close",
        "keep-alive",
    ]
    assert answers[0][2] == answers[1][2] is not None
    assert answers[2][2] is None
