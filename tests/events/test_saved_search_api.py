"""Saved searches in the JSON API (/api/v1/me/searches): the pages' services and refusals."""

import pytest
from django.conf import settings

from events.models import SavedSearch
from tests.factories import EventCategoryFactory, EventPostFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/me/searches"


def _post(client, path: str, data: dict | None = None):
    return client.post(path, data or {}, content_type="application/json")


@pytest.fixture
def student(client):
    user = UserFactory()
    client.force_login(user)
    return user


@pytest.fixture
def jazz():
    music = EventCategoryFactory(slug="music", name="Music")
    return EventPostFactory(title="Jazz at the DUC", category=music)


def _create(client, **extra):
    body = {"name": "Jazz nights", "params": {"q": "jazz", "category": ["music"]}, **extra}
    response = _post(client, API, body)
    assert response.status_code == 201, response.content
    return response.json()


def test_create_list_and_follow_the_feed(client, student, jazz):
    created = _create(client, email_alerts=True)

    assert created["params"] == {"q": ["jazz"], "category": ["music"]}
    assert created["email_alerts"] is True
    assert created["has_feed"] is True
    assert created["search_url"].endswith("/search/?q=jazz&category=music")
    assert created["events_url"].endswith("/api/v1/events?q=jazz&category=music")
    feed_path = created["feed_url"].removeprefix(settings.SITE_URL.rstrip("/"))
    feed = client.get(feed_path)
    assert feed.status_code == 200
    assert "Jazz at the DUC" in feed.content.decode()

    listed = client.get(API).json()
    assert [item["id"] for item in listed] == [created["id"]]
    assert listed[0]["feed_url"] is None  # only its hash is kept
    assert listed[0]["has_feed"] is True
    assert SavedSearch.objects.get().user == student


def test_rotate_and_revoke_the_feed(client, student, jazz):
    created = _create(client)
    old_path = created["feed_url"].removeprefix(settings.SITE_URL.rstrip("/"))

    rotated = _post(client, f"{API}/{created['id']}/feed")
    assert rotated.status_code == 200
    new_path = rotated.json()["feed_url"].removeprefix(settings.SITE_URL.rstrip("/"))
    assert new_path != old_path
    assert client.get(old_path).status_code == 404
    assert client.get(new_path).status_code == 200

    assert client.delete(f"{API}/{created['id']}/feed").status_code == 204
    assert client.get(new_path).status_code == 404
    assert client.get(API).json()[0]["has_feed"] is False


def test_switch_the_daily_email_and_delete(client, student, jazz):
    created = _create(client)
    path = f"{API}/{created['id']}"

    on = client.patch(path, {"email_alerts": True}, content_type="application/json")
    assert on.status_code == 200
    assert on.json()["email_alerts"] is True
    off = client.patch(path, {"email_alerts": False}, content_type="application/json")
    assert off.json()["email_alerts"] is False
    assert SavedSearch.objects.get().email_alerts is False

    assert client.delete(path).status_code == 204
    assert not SavedSearch.objects.exists()
    assert client.delete(path).status_code == 404


def test_another_students_saved_search_answers_404(client, jazz):
    owner = UserFactory()
    client.force_login(owner)
    created = _create(client)
    client.force_login(UserFactory())
    path = f"{API}/{created['id']}"

    assert client.get(API).json() == []
    for response in (
        client.patch(path, {"email_alerts": True}, content_type="application/json"),
        client.delete(path),
        _post(client, f"{path}/feed"),
        client.delete(f"{path}/feed"),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "not_found"
    assert SavedSearch.objects.get().feed_token_hash is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "params": {"category": ["no-such-category"]}}, "category"),
        ({"name": "x", "params": {"page": "2"}}, "params"),
        ({"name": "x", "params": {"radius_km": "5"}}, "radius_km"),
        ({"name": "x", "params": {"q": "jazz\x00"}}, "params"),
        ({"params": {"q": "jazz"}}, "name"),
    ],
)
def test_bad_searches_are_refused_with_the_reason(client, student, jazz, body, field):
    response = _post(client, API, body)

    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]
    assert not SavedSearch.objects.exists()


def test_empty_name_or_search_and_the_limit_are_refused(client, student, jazz):
    blank = _post(client, API, {"name": "  ", "params": {"q": "jazz"}})
    assert blank.status_code == 422
    assert blank.json()["error"]["message"] == "Give the search a name."
    nothing = _post(client, API, {"name": "All", "params": {}})
    assert nothing.status_code == 422

    for number in range(SavedSearch.MAX_PER_USER):
        SavedSearch.objects.create(user=student, name=f"s{number}", query={"q": ["x"]})
    full = _post(client, API, {"name": "One more", "params": {"q": "jazz"}})
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "too_many"


def test_anonymous_requests_answer_401(client):
    assert client.get(API).status_code == 401
    assert _post(client, API, {"name": "x", "params": {"q": "x"}}).status_code == 401
