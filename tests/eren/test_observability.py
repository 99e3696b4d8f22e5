"""Request ids, JSON logs, Sentry's scrubbing and DogStatsD metrics."""

import datetime as dt
import json
import logging
import socket

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import timezone

from core import metrics
from core.logging import JsonFormatter
from core.request_id import RequestIdFilter, RequestIdMiddleware, current_request_id
from eren.sentry import scrub_event, sentry_init
from events import geocoding, services
from tests.factories import EventPostFactory, EventRegistrationFactory, UserFactory

# --- Request id -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_response_carries_a_generated_request_id(client):
    first, second = client.get("/health"), client.get("/health")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
def test_the_albs_trace_id_becomes_the_request_id(client):
    trace = "Root=1-67891233-abcdef012345678912345678"
    assert client.get("/health", HTTP_X_AMZN_TRACE_ID=trace)["X-Request-ID"] == trace
    assert client.get("/health", HTTP_X_REQUEST_ID="abc12345-req")["X-Request-ID"] == (
        "abc12345-req"
    )


@pytest.mark.django_db
def test_an_unsafe_incoming_id_is_replaced(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert "<" not in response["X-Request-ID"]


def test_log_lines_written_during_a_request_carry_its_id(caplog):
    seen = {}

    def view(request):
        logging.getLogger("eren.test").warning("inside the view")
        seen["id"] = current_request_id()
        from django.http import HttpResponse

        return HttpResponse("ok")

    caplog.handler.addFilter(RequestIdFilter())
    response = RequestIdMiddleware(view)(
        RequestFactory().get("/", HTTP_X_REQUEST_ID="req-12345678")
    )
    assert response["X-Request-ID"] == "req-12345678" == seen["id"]
    record = next(r for r in caplog.records if r.getMessage() == "inside the view")
    assert record.request_id == "req-12345678"
    assert current_request_id() == "-"


# --- JSON logs ---------------------------------------------------------------------------------


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord("events.services", logging.INFO, __file__, 1, "seat %s", (3,), None)
    record.request_id = "req-12345678"
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_log_line_has_datadog_trace_ids_when_ddtrace_injects_them():
    line = JsonFormatter("%(levelname)s %(name)s %(message)s").format(
        _record(**{"dd.trace_id": "1234567890", "dd.span_id": "987", "dd.env": "production"})
    )
    payload = json.loads(line)
    assert payload["message"] == "seat 3"
    assert payload["status"] == "INFO"
    assert payload["logger"] == "events.services"
    assert payload["request_id"] == "req-12345678"
    assert payload["dd.trace_id"] == "1234567890"
    assert payload["dd.span_id"] == "987"
    assert payload["dd.env"] == "production"
    assert "timestamp" in payload


def test_json_log_line_leaves_out_empty_trace_ids():
    line = JsonFormatter("%(levelname)s %(name)s %(message)s").format(
        _record(**{"dd.trace_id": 0, "dd.span_id": 0})
    )
    payload = json.loads(line)
    assert "dd.trace_id" not in payload
    assert "dd.span_id" not in payload


# --- Error pages ------------------------------------------------------------------------------


def _raising(exc):
    def view(request):
        raise exc

    return view


@pytest.fixture
def broken_urls(settings):
    from django.urls import path

    import eren.urls

    class Urls:
        urlpatterns = [
            path("boom", _raising(ValueError("a bug"))),
            path("db-down", _raising(OperationalError("connection refused"))),
            path("api/v1/db-down", _raising(OperationalError("connection refused"))),
        ]
        handler500 = eren.urls.handler500

    settings.ROOT_URLCONF = Urls
    return Urls


@pytest.mark.usefixtures("broken_urls")
def test_a_bug_shows_the_500_page_with_the_request_id(client):
    client.raise_request_exception = False
    response = client.get("/boom", HTTP_X_REQUEST_ID="req-bug-1234")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "req-bug-1234" in page
    assert response["X-Request-ID"] == "req-bug-1234"


@pytest.mark.usefixtures("broken_urls")
def test_a_database_outage_shows_the_friendly_503_page(client):
    client.raise_request_exception = False
    response = client.get("/db-down", HTTP_X_REQUEST_ID="req-db-12345")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "briefly unavailable" in page
    assert "req-db-12345" in page


@pytest.mark.usefixtures("broken_urls")
def test_a_database_outage_under_api_answers_the_error_shape(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/db-down")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


# --- Sentry ------------------------------------------------------------------------------------


def test_sentry_stays_off_without_a_dsn():
    import sentry_sdk

    assert sentry_init({"DJANGO_ENV": "production", "SENTRY_DSN": ""}) is False
    assert sentry_init({}) is False
    assert sentry_sdk.get_client().is_active() is False


def test_before_send_scrubs_email_addresses_everywhere():
    event = {
        "level": "error",
        "message": "No account for alice.smith@wustl.edu",
        "logentry": {"message": "Lookup %s", "params": ["bob@wustl.edu"]},
        "exception": {
            "values": [
                {
                    "type": "EventRegistration.DoesNotExist",
                    "value": "carol@wustl.edu is not registered",
                    "stacktrace": {
                        "frames": [{"function": "view", "vars": {"email": "'dan@wustl.edu'"}}]
                    },
                }
            ]
        },
        "request": {
            "url": "https://eren.washu.edu/accounts/login/",
            "method": "POST",
            "data": {"login": "erin@wustl.edu", "password": "[Filtered]"},
            "query_string": "email=frank%40wustl.edu&next=/",
        },
        "breadcrumbs": {
            "values": [
                {
                    "category": "query",
                    "message": "SELECT * FROM users_user WHERE email = 'gail@wustl.edu'",
                }
            ]
        },
        "user": {"id": "42", "email": "henry@wustl.edu", "username": "henry@wustl.edu"},
        "extra": {"recipients": ["ivy@wustl.edu", "jo@wustl.edu"]},
    }
    scrubbed = scrub_event(event, {})
    text = json.dumps(scrubbed)
    assert "@wustl.edu" not in text
    assert "[email]" in scrubbed["message"]
    assert scrubbed["exception"]["values"][0]["value"] == "[email] is not registered"
    assert scrubbed["request"]["data"]["login"] == "[email]"
    assert scrubbed["user"] == {"id": "42"}
    assert scrubbed["breadcrumbs"]["values"][0]["category"] == "query"
    assert scrubbed["request"]["url"] == "https://eren.washu.edu/accounts/login/"


def test_sentry_init_with_a_dsn_sets_environment_release_and_rates(monkeypatch):
    import sentry_sdk

    captured = {}
    monkeypatch.setattr(sentry_sdk, "init", lambda **options: captured.update(options))
    started = sentry_init(
        {
            "SENTRY_DSN": "https://public@sentry.example/1",
            "DJANGO_ENV": "staging",
            "DD_GIT_COMMIT_SHA": "0123abc",
            "SENTRY_TRACES_SAMPLE_RATE": "0.25",
        }
    )
    assert started is True
    assert captured["environment"] == "staging"
    assert captured["release"] == "0123abc"
    assert captured["traces_sample_rate"] == 0.25
    assert captured["send_default_pii"] is False
    assert captured["before_send"] is scrub_event
    names = {type(integration).__name__ for integration in captured["integrations"]}
    assert names == {"DjangoIntegration", "CeleryIntegration", "RedisIntegration"}


# --- DogStatsD ---------------------------------------------------------------------------------


@pytest.fixture
def statsd_listener(monkeypatch):
    """A real UDP socket on loopback standing in for the Datadog agent."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(2)
    monkeypatch.delenv("DD_DOGSTATSD_URL", raising=False)
    monkeypatch.setenv("DD_AGENT_HOST", "127.0.0.1")
    monkeypatch.setenv("DD_DOGSTATSD_PORT", str(listener.getsockname()[1]))

    def received() -> list[str]:
        packets = []
        listener.settimeout(2)
        while True:
            try:
                data = listener.recv(65535)
            except TimeoutError:
                return packets
            packets.extend(data.decode().splitlines())
            listener.settimeout(0.2)

    yield received
    listener.close()


def test_metrics_reach_the_agent_with_name_value_and_tags(statsd_listener):
    metrics.increment("registrations.created", tags={"status": "confirmed"})
    [packet] = statsd_listener()
    assert packet.startswith("eren.registrations.created:1|c")
    assert "status:confirmed" in packet


def test_metrics_use_dd_dogstatsd_url_too(statsd_listener, monkeypatch):
    port = int(__import__("os").environ["DD_DOGSTATSD_PORT"])
    monkeypatch.delenv("DD_AGENT_HOST")
    monkeypatch.setenv("DD_DOGSTATSD_URL", f"udp://127.0.0.1:{port}")
    metrics.increment("searches")
    assert statsd_listener()[0].startswith("eren.searches:1|c")


def test_nothing_is_sent_without_an_agent(statsd_listener, monkeypatch):
    monkeypatch.delenv("DD_AGENT_HOST")
    metrics.increment("searches")
    assert statsd_listener() == []


def test_a_metric_never_raises(monkeypatch):
    monkeypatch.setenv("DD_AGENT_HOST", "no-such-host.invalid")
    metrics.increment("searches")
    monkeypatch.setenv("DD_DOGSTATSD_URL", "not a url at all://")
    metrics.increment("searches")


@pytest.mark.django_db
def test_services_count_registrations_check_ins_and_searches(statsd_listener, side_effects, client):
    from django.utils import timezone

    event = EventPostFactory(starts_at=timezone.now() + timezone.timedelta(minutes=30))
    student = UserFactory()
    with side_effects(execute=True):
        services.registration_create(event_id=event.pk, user=student)
    registration = event.registrations.get(user=student)
    with side_effects(execute=True):
        services.registration_check_in(registration_id=registration.pk, by=event.organizer)
    client.force_login(student)
    client.get("/search/?q=anything")
    packets = statsd_listener()
    names = [packet.split(":")[0] for packet in packets]
    assert "eren.registrations.created" in names
    assert "eren.check_ins" in names
    assert "eren.searches" in names


@pytest.mark.django_db
def test_a_sent_email_is_counted(statsd_listener, celery_eager, side_effects):
    registration = EventRegistrationFactory()
    from events import emails

    emails.registration_email_send(registration_id=registration.pk, kind="confirmed")
    assert any(p.startswith("eren.emails.sent:1|c") for p in statsd_listener())


@pytest.mark.django_db
def test_each_relay_round_reports_the_outbox_to_the_agent(statsd_listener, monkeypatch):
    from core import outbox, tasks
    from core.models import OutboxMessage

    outbox.add(tasks.outbox_prune)
    OutboxMessage.objects.update(created_at=timezone.now() - dt.timedelta(minutes=12))
    OutboxMessage.objects.create(task="core.tasks.outbox_prune", key="dead", status="dead")
    monkeypatch.setattr(outbox, "relay", lambda: 0)  # the report alone, no broker

    tasks.outbox_relay()

    gauges = {p.split("|")[0].split(":")[0]: float(p.split(":")[1].split("|")[0])
              for p in statsd_listener() if "|g" in p}  # fmt: skip
    assert gauges["eren.outbox.pending"] == 1
    assert gauges["eren.outbox.dead"] == 1
    assert 12 * 60 <= gauges["eren.outbox.oldest_pending_seconds"] < 13 * 60


def test_a_geocoding_failure_is_counted(statsd_listener, settings):
    settings.GOOGLE_MAPS_API_KEY = "test-key"
    settings.GOOGLE_GEOCODING_URL = "http://127.0.0.1:9/geocode/json"
    settings.GOOGLE_GEOCODING_TIMEOUT = 1
    with pytest.raises(geocoding.GeocodingRetryableError):
        geocoding.google_geocode("Brookings Hall")
    assert any(p.startswith("eren.geocoding.failures:1|c") for p in statsd_listener())


def test_under_ddtrace_run_json_lines_carry_the_trace_and_span_ids():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = "\n".join(
        [
            "import logging, sys",
            "from core.logging import JsonFormatter",
            "handler = logging.StreamHandler(sys.stdout)",
            "handler.setFormatter(JsonFormatter('%(levelname)s %(name)s %(message)s'))",
            "logging.getLogger().handlers = [handler]",
            "logging.getLogger().setLevel(logging.INFO)",
            "from ddtrace.trace import tracer",
            "with tracer.trace('request'):",
            "    logging.getLogger('eren.test').info('inside a span')",
        ]
    )
    env = {
        **os.environ,
        "DD_LOGS_INJECTION": "true",
        "DD_SERVICE": "eren-web",
        "DD_ENV": "test",
        "DD_VERSION": "abc123",
        "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
        "DD_TRACE_AGENT_URL": "http://127.0.0.1:9",
    }
    bin_dir = Path(sys.executable).parent
    completed = subprocess.run(
        [str(bin_dir / "ddtrace-run"), sys.executable, "-c", script],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    line = next(x for x in completed.stdout.splitlines() if "inside a span" in x)
    payload = json.loads(line)
    assert payload["dd.trace_id"]
    assert payload["dd.span_id"]
    assert (payload["dd.service"], payload["dd.env"], payload["dd.version"]) == (
        "eren-web",
        "test",
        "abc123",
    )
