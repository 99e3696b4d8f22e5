"""The inputs issue 3 lists, through the real URLs: a clear 4xx or a harmless page, never 500."""

import pytest

from tests.factories import EventCategoryFactory, EventPostFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"
BAD_QUERIES = [
    {"q": "jazz " * 2000},  # 10,000 characters
    {"q": '"'},
    {"q": "-"},
    {"q": "or or"},
    {"q": '"unclosed phrase'},
    {"q": "- - -jazz"},
    {"q": "'; DROP TABLE events_eventpost; --"},
    {"q": "1 OR 1=1"},
    {"q": SCRIPT},
    {"q": "\x00nul byte"},
    {"q": "%00%27"},
    {"from": "2026-13-45"},
    {"from": "tomorrow"},
    {"from": "2026-12-10", "to": "2026-12-01"},
    {"lat": "91", "lng": "0"},
    {"lat": "abc", "lng": "-90.3"},
    {"lat": "NaN", "lng": "NaN"},
    {"near": "Hogwarts"},
    {"near": "olin-library", "radius_km": "-5"},
    {"near": "olin-library", "radius_km": "1e308"},
    {"near": "olin-library", "radius_km": "0"},
    {"page": "abc"},
    {"page": "-1"},
    {"page": "99999999999999999999"},
    {"category": "no-such-category"},
    {"category": ["music", SCRIPT]},
    {"sort": "DROP"},
    {"past": "maybe"},
]


@pytest.fixture(autouse=True)
def some_events():
    music = EventCategoryFactory(slug="music", name="Music")
    EventPostFactory(title="Jazz at Holmes", category=music)
    EventPostFactory(title="Career Fair")


@pytest.mark.parametrize("params", BAD_QUERIES)
def test_search_page_answers_bad_input_with_a_page(client, params):
    response = client.get("/search/", params)
    assert response.status_code in {200, 400}
    content = response.content.decode()
    assert SCRIPT not in content
    if response.status_code == 400:
        assert 'class="field-error"' in content or "Please fix" in content


@pytest.mark.parametrize("params", BAD_QUERIES)
def test_api_answers_bad_input_in_the_error_shape(client, params):
    response = client.get("/api/v1/events", params)
    assert response.status_code in {200, 422}
    body = response.json()
    if response.status_code == 422:
        assert body["error"]["code"] == "invalid"
        assert body["error"]["fields"]
    else:
        assert "results" in body
    # JSON, not HTML: a client escapes what it shows.
    assert response["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("prefix", ["", '"', "-", "a" * 5000, SCRIPT, "jaz", "\x00"])
def test_suggestions_never_fail(client, prefix):
    response = client.get("/search/suggest", {"q": prefix})
    assert response.status_code == 200
    assert isinstance(response.json()["suggestions"], list)


@pytest.mark.parametrize("page_size", ["0", "101", "-3", "abc"])
def test_api_page_size_is_bounded(client, page_size):
    response = client.get("/api/v1/events", {"page_size": page_size})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("event_id", ["0", "-1", "99999999999999999999", "abc"])
def test_odd_event_ids_are_not_errors(client, event_id):
    assert client.get(f"/api/v1/events/{event_id}").status_code in {404, 422}
    assert client.get(f"/events/{event_id}/").status_code == 404
