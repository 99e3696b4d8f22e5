"""Rate limits on real Redis: each trips at its number, with 429 and Retry-After.

Limits are set per hour here: django-ratelimit counts in fixed windows, and an hour-long one
makes a window ending in the middle of a test too unlikely to matter.
"""

import logging

import pytest
from django.test import RequestFactory
from django.urls import reverse

from core import ratelimits
from core.ratelimits import client_ip
from events import services
from events.models import OrganizerMessage
from tests.eren.test_settings import PRODUCTION, run_django
from tests.factories import EventPostFactory, OrganizerFactory, UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def limits(settings):
    """Set some limits for one test: limits(search_ip="3/h")."""

    def set_limits(**rates: str) -> None:
        settings.RATELIMITS = {**settings.RATELIMITS, **rates}

    return set_limits


def assert_limited_page(response) -> None:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "Too many requests" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def assert_limited_json(response) -> None:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    body = response.json()
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["message"]
    assert body["error"]["fields"] == {}


# --- Registration, search, the API --------------------------------------------------------


def test_registration_and_cancel_pages_share_a_limit_per_user(client, limits):
    limits(registration_user="2/h")
    student = UserFactory()
    client.force_login(student)
    event = EventPostFactory()
    assert client.post(reverse("events:register", args=[event.pk])).status_code == 302
    assert client.post(reverse("events:cancel", args=[event.pk])).status_code == 302
    assert_limited_page(client.post(reverse("events:register", args=[event.pk])))
    # Someone else still registers.
    client.force_login(UserFactory())
    assert client.post(reverse("events:register", args=[event.pk])).status_code == 302


def test_registration_api_answers_the_error_shape_when_limited(client, limits):
    limits(registration_user="2/h")
    client.force_login(UserFactory())
    event = EventPostFactory()
    url = f"/api/v1/events/{event.pk}/registration"
    assert client.post(url).status_code == 201
    assert client.delete(url).status_code == 204
    response = client.post(url)
    assert_limited_json(response)
    assert response["Content-Type"] == "application/json"


def test_page_and_api_registrations_count_together(client, limits):
    limits(registration_user="1/h")
    client.force_login(UserFactory())
    event = EventPostFactory()
    assert client.post(reverse("events:register", args=[event.pk])).status_code == 302
    assert_limited_json(client.delete(f"/api/v1/events/{event.pk}/registration"))


def test_search_page_suggestions_and_api_list_share_a_limit_per_ip(client, limits):
    limits(search_ip="3/h")
    assert client.get(reverse("events:search"), {"q": "chess"}).status_code == 200
    assert client.get(reverse("events:suggest"), {"q": "che"}).status_code == 200
    assert client.get("/api/v1/events", {"q": "chess"}).status_code == 200
    assert_limited_page(client.get(reverse("events:search"), {"q": "chess"}))
    assert_limited_json(client.get(reverse("events:suggest"), {"q": "che"}))
    assert_limited_json(client.get("/api/v1/events"))
    # The event list and a single event are not searches.
    assert client.get(reverse("events:list")).status_code == 200


def test_api_is_limited_per_user_across_endpoints(client, limits):
    limits(api_user="3/h")
    client.force_login(UserFactory())
    assert client.get("/api/v1/categories").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me/registrations").status_code == 200
    assert_limited_json(client.get("/api/v1/categories"))
    # The limit is the user's, not the address's.
    client.force_login(UserFactory())
    assert client.get("/api/v1/categories").status_code == 200


def test_anonymous_api_use_is_limited_per_ip(client, limits):
    limits(api_user="2/h")
    client.get("/api/v1/categories")
    client.get("/api/v1/categories")
    assert_limited_json(client.get("/api/v1/categories"))
    assert client.get("/api/v1/categories", REMOTE_ADDR="10.9.9.9").status_code == 200


def test_organizer_message_limit_comes_from_settings(settings, limits):
    limits(organizer_message_event="1/h")
    organizer = OrganizerFactory()
    event = EventPostFactory(organizer=organizer)
    services.organizer_message_send(event_id=event.pk, by=organizer, subject="A", body="B")
    with pytest.raises(services.MessageRateLimited) as refused:
        services.organizer_message_send(event_id=event.pk, by=organizer, subject="C", body="D")
    assert "once an hour" in refused.value.message
    assert 3500 < refused.value.retry_after <= 3601
    assert OrganizerMessage.objects.count() == 1


@pytest.mark.parametrize(
    ("rate", "described"),
    [("3/h", "3 times an hour"), ("1/d", "once a day"), ("10/5m", "10 times in 300 seconds")],
)
def test_rate_descriptions_read_naturally(rate, described):
    assert ratelimits.rate_describe(rate) == described


def test_limits_can_be_switched_off(client, settings, limits):
    settings.RATELIMIT_ENABLE = False
    limits(search_ip="1/h")
    for _ in range(3):
        assert client.get(reverse("events:search"), {"q": "a"}).status_code == 200


def test_switching_limits_off_turns_allauths_off_too():
    completed = run_django(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.ACCOUNT_RATE_LIMITS)",
        environment={"RATELIMIT_ENABLE": "false"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("False")


# --- The client's address behind the ALB --------------------------------------------------


def request_from(remote_addr: str, forwarded_for: str | None = None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.5"),  # no proxy trusted: the header is the client's own words
        (1, None, "10.0.0.5"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # a spoofed hop on the left is ignored
        (2, "6.6.6.6, 203.0.113.7, 198.51.100.2", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.5"),  # fewer hops than proxies: not through them
        (1, "not-an-address", "10.0.0.5"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_trusts_exactly_the_configured_proxies(
    settings, proxies, forwarded_for, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request_from("10.0.0.5", forwarded_for)) == expected


def test_a_spoofed_extra_hop_does_not_change_the_key(client, settings, limits):
    settings.TRUSTED_PROXY_COUNT = 1
    limits(search_ip="2/h")
    alb = {"REMOTE_ADDR": "10.0.0.5"}

    def search(forwarded_for: str):
        return client.get(reverse("events:search"), HTTP_X_FORWARDED_FOR=forwarded_for, **alb)

    search("1.1.1.1, 203.0.113.7")
    search("2.2.2.2, 203.0.113.7")
    assert_limited_page(search("3.3.3.3, 203.0.113.7"))
    # Another student behind the same ALB is not affected.
    assert search("198.51.100.2").status_code == 200


# --- Redis unreachable --------------------------------------------------------------------


@pytest.fixture
def redis_unreachable(settings, monkeypatch):
    """Every cache alias at a port nothing listens on: refused connections, not a mock."""
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    for config in caches.values():
        config["LOCATION"] = CLOSED_PORT_REDIS
    settings.CACHES = caches
    monkeypatch.setattr(ratelimits, "_last_outage_log", 0.0)


def test_search_keeps_serving_when_redis_is_down(client, redis_unreachable):
    EventPostFactory(title="Chess night")
    response = client.get(reverse("events:search"), {"q": "chess"})
    assert response.status_code == 200
    assert (
        "Chess</mark> night" in response.content.decode()
        or "Chess night" in response.content.decode()
    )
    assert client.get("/api/v1/events", {"q": "chess"}).json()["count"] == 1
    assert client.get(reverse("events:suggest"), {"q": "che"}).status_code == 200


def test_registration_keeps_working_when_redis_is_down(client, redis_unreachable):
    client.force_login(UserFactory())
    event = EventPostFactory()
    assert client.post(f"/api/v1/events/{event.pk}/registration").status_code == 201


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("account_login", {"login": "{email}", "password": "correct-horse-battery"}),
        (
            "account_signup",
            {"email": "new@wustl.edu", "password1": "p" * 12, "password2": "p" * 12},
        ),
        ("account_reset_password", {"email": "{email}"}),
    ],
)
def test_account_forms_are_refused_with_a_clear_message_when_redis_is_down(
    client, redis_unreachable, name, data
):
    user = UserFactory()
    response = client.post(
        reverse(name), {key: value.format(email=user.email) for key, value in data.items()}
    )
    assert response.status_code == 503
    assert "try again shortly" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    assert User.objects.count() == 1


def test_the_outage_is_logged_once_not_per_request(client, redis_unreachable, caplog):
    with caplog.at_level(logging.ERROR, logger="core.ratelimits"):
        for _ in range(5):
            assert client.get(reverse("events:search")).status_code == 200
        client.post(reverse("account_login"), {"login": "a@wustl.edu", "password": "x"})
    outage = [r for r in caplog.records if "Rate limiting is unavailable" in r.getMessage()]
    assert len(outage) == 1


# --- Configuration ------------------------------------------------------------------------


def test_limits_are_read_from_the_environment():
    completed = run_django(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.RATELIMITS['search_ip'], s.ACCOUNT_RATE_LIMITS['login'])",
        environment={**PRODUCTION, "RATELIMIT_SEARCH_IP": "7/m", "RATELIMIT_LOGIN_IP": "9/5m"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("7/m 9/5m/ip")


def test_a_malformed_limit_refuses_to_start():
    completed = run_django("check", environment={"RATELIMIT_SEARCH_IP": "lots"})
    assert completed.returncode != 0
    assert "search_ip" in completed.stderr
