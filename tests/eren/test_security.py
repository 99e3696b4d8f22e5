"""Security headers, CSP, CORS, the admin's path and Django's deployment checks."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import sign_in
from tests.factories import EventPostFactory, UserFactory
from users.models import User

from .test_settings import PRODUCTION, run_django

pytestmark = pytest.mark.django_db

ALLOWED_ORIGIN = "https://app.example.edu"
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def inline_scripts(html: str) -> list[str]:
    """<script> tags that run inline code: no src, and not a JSON data block."""
    return [
        attributes
        for attributes in SCRIPT_TAG.findall(html)
        if "src=" not in attributes and "application/json" not in attributes
    ]


@pytest.fixture
def pages(client):
    """Every kind of page: public, account (allauth), personal, organizer, admin, API docs."""
    event = EventPostFactory()
    # Check-in is open: the code screen shows its code.
    on_now = EventPostFactory(
        starts_at=timezone.now(), ends_at=timezone.now() + dt.timedelta(hours=1)
    )
    staff = User.objects.create_superuser(email="admin@wustl.edu", password="x" * 12)
    anonymous = [
        reverse("events:list"),
        reverse("events:search") + "?q=chess",
        reverse("events:search-map"),
        reverse("events:search-calendar") + "?view=month",
        reverse("events:detail", args=[event.pk]),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
        "/api/v1/docs",
    ]
    logged_in = [
        reverse("escore:leaderboard"),
        reverse("events:mine"),
        reverse("events:mine-calendar"),
        reverse("escore:mine"),
        reverse("users:account"),
        reverse("events:organize"),
        reverse("events:manage", args=[event.pk]),
        reverse("mfa_index"),
        reverse("mfa_list_webauthn"),
        reverse("events:door", args=[on_now.pk]) + "?q=a",
        reverse("events:code-screen", args=[on_now.pk]),
        reverse("events:self-check-in"),
        reverse("admin:index"),
        reverse("admin:events_eventpost_changelist"),
        reverse("admin:events_eventpost_change", args=[event.pk]),
    ]
    return anonymous, logged_in, staff


def test_no_page_runs_inline_script_and_every_page_sends_the_csp(client, pages):
    anonymous, logged_in, staff = pages
    responses = [client.get(url) for url in anonymous]
    sign_in(client, staff)
    responses += [client.get(url) for url in logged_in]
    for response in responses:
        assert response.status_code == 200, response.request["PATH_INFO"]
        script_src = csp_directives(response)["script-src"]
        assert "'unsafe-inline'" not in script_src
        assert "'unsafe-eval'" not in script_src
        html = response.content.decode()
        path = response.request["PATH_INFO"]
        assert inline_scripts(html) == [], path
        if not path.startswith("/admin/"):
            assert "<style" not in html, path
            assert " style=" not in html, path


def test_csp_allows_only_this_site(client):
    directives = csp_directives(client.get(reverse("events:list")))
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]


def test_csp_allows_the_static_cdn_when_static_url_points_at_one():
    completed = run_django(
        "shell",
        "-c",
        "from django.conf import settings; "
        "print(' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src']))",
        environment={**PRODUCTION, "STATIC_URL": "https://static.eren.washu.edu/static/"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("'self' https://static.eren.washu.edu")


def test_csp_allows_the_map_tiles_origin_and_only_for_images():
    completed = run_django(
        "shell",
        "-c",
        "from django.conf import settings; d = settings.CONTENT_SECURITY_POLICY['DIRECTIVES']; "
        "print(' '.join(d['img-src'])); print(' '.join(d['script-src']))",
        environment={**PRODUCTION, "MAP_TILE_URL": "https://{s}.tiles.example.org/{z}/{x}/{y}.png"},
    )
    assert completed.returncode == 0, completed.stderr
    img_src, script_src = completed.stdout.strip().splitlines()[-2:]
    assert img_src.endswith("https://*.tiles.example.org")
    assert "tiles" not in script_src


def test_security_headers_are_on_every_response(client):
    for response in (client.get(reverse("events:list")), client.get("/api/v1/categories")):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        policy = response["Permissions-Policy"]
        assert "camera=()" in policy
        assert "microphone=()" in policy
        # "Near me" on the search page asks for the position.
        assert "geolocation=(self)" in policy


def test_hsts_on_https_responses(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get(reverse("events:list"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_session_cookie_is_httponly(client):
    user = UserFactory()
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]


# --- CORS ---------------------------------------------------------------------------------


@pytest.fixture
def cors_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED_ORIGIN]
    return ALLOWED_ORIGIN


def test_api_answers_an_allowed_origin(client, cors_origin):
    response = client.get("/api/v1/categories", HTTP_ORIGIN=cors_origin)
    assert response["Access-Control-Allow-Origin"] == cors_origin
    assert "Access-Control-Allow-Credentials" not in response
    preflight = client.options(
        "/api/v1/events",
        HTTP_ORIGIN=cors_origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == cors_origin


def test_api_does_not_answer_other_origins(client, cors_origin):
    response = client.get("/api/v1/categories", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in response


def test_pages_are_never_shared_cross_origin(client, cors_origin):
    for url in (reverse("events:list"), reverse("events:suggest") + "?q=ch", "/health"):
        response = client.get(url, HTTP_ORIGIN=cors_origin)
        assert "Access-Control-Allow-Origin" not in response, url


def test_no_origin_is_allowed_by_default():
    completed = run_django(
        "shell",
        "-c",
        "from django.conf import settings; "
        "print(settings.CORS_ALLOWED_ORIGINS, settings.CORS_ALLOW_CREDENTIALS)",
        environment={},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("[] False")


# --- The admin ----------------------------------------------------------------------------


def test_admin_path_comes_from_the_environment():
    completed = run_django(
        "shell",
        "-c",
        "from django.urls import reverse; print(reverse('admin:index'), reverse('admin:login'))",
        environment={"ADMIN_URL": "staff-area-7f3/"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("/staff-area-7f3/ /staff-area-7f3/login/")


@pytest.mark.parametrize("admin_url", ["/admin/", "admin", "/"])
def test_a_malformed_admin_path_refuses_to_start(admin_url):
    completed = run_django("check", environment={"ADMIN_URL": admin_url})
    assert completed.returncode != 0
    assert "ADMIN_URL" in completed.stderr


def test_the_admin_asks_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- Deployment checks --------------------------------------------------------------------


def test_deploy_check_is_clean_with_production_settings():
    completed = run_django("check", "--deploy", "--fail-level", "WARNING", environment=PRODUCTION)
    assert completed.returncode == 0, completed.stderr
    assert "WARNINGS" not in completed.stderr
    assert "System check identified no issues" in completed.stdout


def test_deploy_check_is_clean_with_hsts_preload_on():
    completed = run_django(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        environment={**PRODUCTION, "SECURE_HSTS_PRELOAD": "true"},
    )
    assert completed.returncode == 0, completed.stderr


def test_production_cookies_and_proxy_settings():
    completed = run_django(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.ALLOWED_HOSTS, "
        "s.CSRF_TRUSTED_ORIGINS)",
        environment=PRODUCTION,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == (
        "True True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https') "
        "['eren.washu.edu'] ['https://eren.washu.edu']"
    )
