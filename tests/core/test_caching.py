"""HTTP caching: anonymous pages public for 5 minutes and kept in Redis; personal pages never."""

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.management import call_command
from django.test import RequestFactory, override_settings
from django.urls import reverse

from core.caching import process_pages
from core.static import StaticFilesMiddleware
from tests.factories import EventPostFactory, UserFactory

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["/", "/search/?q=jazz"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_anonymous_pages_are_public_for_five_minutes_and_vary_on_cookie(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
    assert "csrftoken" not in response.cookies


def test_anonymous_event_detail_is_public(client):
    event = EventPostFactory()
    response = client.get(event.get_absolute_url())
    assert "public" in response["Cache-Control"]
    assert "Log in to register" in response.content.decode()


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, "/me/events/", "/leaderboard/"])
def test_logged_in_pages_are_private_and_never_stored(client, path):
    client.force_login(UserFactory())
    response = client.get(path)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_the_login_page_with_its_csrf_token_is_not_public(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert "public" not in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_api_me_is_private(client):
    client.force_login(UserFactory())
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_anonymous_list_is_served_from_redis_for_five_minutes(client):
    event = EventPostFactory(title="First title")
    assert "First title" in client.get("/").content.decode()
    event.title = "Second title"
    event.save()
    # The documented trade-off: anonymous visitors see the edit within 5 minutes...
    assert "First title" in client.get("/").content.decode()
    # ...while the page for someone logged in is never a cached copy.
    client.force_login(UserFactory())
    assert "Second title" in client.get("/").content.decode()
    cache.delete_pattern("*")  # this test's keys only; clear() would empty the whole database
    process_pages.clear()
    client.logout()
    assert "Second title" in client.get("/").content.decode()


def test_a_worker_keeps_a_page_no_longer_than_redis_does(client, monkeypatch):
    import time as time_module

    EventPostFactory(title="Kept title")
    client.get("/")
    cache.delete_pattern("*")  # as if Redis expired it (this test's keys only)...
    assert "Kept title" in client.get("/").content.decode()  # ...this worker still has it
    later = time_module.time() + 301
    monkeypatch.setattr("core.caching.time.time", lambda: later)
    EventPostFactory(title="Newer title")
    assert "Newer title" in client.get("/").content.decode()


def test_cached_anonymous_list_costs_no_queries(client, django_assert_num_queries):
    EventPostFactory.create_batch(3)
    client.get("/")
    with django_assert_num_queries(0):
        response = client.get("/")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]


def test_a_student_sees_their_registration_at_once_on_the_detail_page(client):
    event = EventPostFactory(capacity=5)
    client.get(event.get_absolute_url())  # anonymous copy now in Redis
    client.force_login(UserFactory())
    client.post(reverse("events:register", kwargs={"pk": event.pk}))
    page = client.get(event.get_absolute_url()).content.decode()
    assert "You're registered" in page


def test_a_visitor_with_a_message_waiting_gets_a_fresh_private_page(client, rf):
    client.get("/")
    storage = CookieStorage(rf.get("/"))
    waiting = storage._encode([Message(constants.INFO, "You have signed out.")])
    client.cookies[CookieStorage.cookie_name] = waiting
    response = client.get("/")
    assert "You have signed out." in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    # The shared copy was not replaced by the personal one.
    del client.cookies[CookieStorage.cookie_name]
    assert "You have signed out." not in client.get("/").content.decode()


def test_search_errors_are_not_cached(client):
    response = client.get("/search/?page=1&within_km=-3&near=nowhere")
    assert response.status_code == 400
    assert "public" not in response["Cache-Control"]


def test_hashed_static_files_are_immutable_for_a_year(tmp_path):
    manifest = "whitenoise.storage.CompressedManifestStaticFilesStorage"
    with override_settings(
        STATIC_ROOT=tmp_path,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": manifest},
        },
        DEBUG=False,
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
        from django.contrib.staticfiles.storage import staticfiles_storage
        from django.templatetags.static import static

        staticfiles_storage._setup()  # the lazy storage follows the overridden backend
        hashed_url = static("css/site.css")
        assert hashed_url != "/static/css/site.css"
        middleware = StaticFilesMiddleware(lambda request: None)
        hashed = middleware(RequestFactory().get(hashed_url))
        plain = middleware(RequestFactory().get("/static/css/site.css"))
    assert hashed.status_code == 200
    assert hashed["Cache-Control"] == "max-age=31536000, public, immutable"
    assert plain["Cache-Control"] == "max-age=3600, public"
