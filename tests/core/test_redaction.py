"""Tokens in URLs never reach a log line, a trace or an error report (core.redaction).

The URLs are reversed from the real routes, so a route that moves or a new token-bearing
link without a pattern fails here; gunicorn and ddtrace-run are run for real.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.urls import reverse

from core.redaction import redact_tokens
from eren.sentry import scrub_event
from tests.conftest import database_url_for_subprocesses

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "MQ:1xZXbd:Secret-Token_0123456789"


def token_urls() -> list[str]:
    return [
        reverse("events:check-in", kwargs={"token": TOKEN}),
        reverse("events:calendar-feed", kwargs={"token": TOKEN}),
        reverse("events:saved-search-feed", kwargs={"token": TOKEN}),
        reverse("events:saved-search-email-off", kwargs={"token": TOKEN}),
        reverse("users:reminders-off", kwargs={"token": TOKEN}),
        reverse("account_reset_password_from_key", kwargs={"uidb36": "1", "key": TOKEN}),
    ]


@pytest.mark.parametrize("index", range(6))
def test_every_link_that_is_its_own_credential_is_redacted(index):
    url = token_urls()[index]
    for text in (
        f"GET {url} HTTP/1.1",
        f"https://eren.washu.edu{url}?utm=x",
        f"/accounts/login/?next={quote(url, safe='')}",
    ):
        redacted = redact_tokens(text)
        assert TOKEN not in redacted
        assert quote(TOKEN, safe="") not in redacted
        assert "[token]" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "/events/12/calendar.ics",
        "/me/calendar/reset",
        "/search/?q=check-in",
        "/me/account/",
        "/me/searches/",
    ],
)
def test_other_urls_are_left_alone(text):
    assert redact_tokens(text) == text


def test_sentry_events_lose_the_tokens_too():
    url = reverse("events:calendar-feed", kwargs={"token": TOKEN})
    event = scrub_event({"request": {"url": f"https://eren.washu.edu{url}"}, "message": url})
    assert TOKEN not in json.dumps(event)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, **headers: str) -> None:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a local test server
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)  # noqa: S310


@pytest.mark.django_db(transaction=True)
def test_gunicorn_and_django_log_lines_show_no_token(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "eren.settings.test",
        "DATABASE_URL": database_url_for_subprocesses(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "LOG_FORMAT": "json",
        "ALLOWED_HOSTS": "127.0.0.1",
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
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2)  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        for url in token_urls():
            _get(base + url, Referer=base + url)
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = log.read_text()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert len(access) >= len(token_urls()) + 1, output
    assert any("Not Found" in line["message"] for line in lines), output  # a revoked feed
    assert TOKEN not in output
    assert quote(TOKEN, safe="") not in output
    assert "[token]" in output


@pytest.mark.django_db(transaction=True)
def test_datadog_traces_show_no_token():
    # In AWS Lambda mode ddtrace writes each trace to stdout as JSON instead of to an agent:
    # the same processors run, so what it prints is what the agent would receive.
    script = "\n".join(
        [
            "import django",
            "django.setup()",
            "from django.test import Client",
            "from ddtrace.trace import tracer",
            "client = Client(HTTP_HOST='localhost', raise_request_exception=False)",
            f"for url in {token_urls()!r}:",
            "    client.get(url)",
            "tracer.flush()",
        ]
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "eren.settings.test",
        "DATABASE_URL": database_url_for_subprocesses(),
        "AWS_LAMBDA_FUNCTION_NAME": "eren-trace-test",
        "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
    }
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "ddtrace-run"), sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    traces = [line for line in completed.stdout.splitlines() if line.startswith('{"traces"')]
    urls = [
        span["meta"].get("http.url", "")
        for line in traces
        for trace in json.loads(line)["traces"]
        for span in trace
    ]
    assert sum("[token]" in url for url in urls) == len(token_urls()), completed.stdout
    assert TOKEN not in completed.stdout
