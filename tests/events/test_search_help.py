"""Search that helps: the empty page, paging past the end, typo correction, synonyms."""

import pytest

from events.search import search_words_refresh
from tests.factories import EventCategoryFactory, EventPostFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def robotics():
    clubs = EventCategoryFactory(slug="clubs", name="Clubs")
    EventCategoryFactory(slug="music", name="Music")
    EventPostFactory(title="Robotics club build night", category=clubs)
    search_words_refresh()


@pytest.mark.usefixtures("robotics")
def test_empty_page_says_no_events_match_and_offers_did_you_mean(client):
    response = client.get(
        "/search/", {"q": "robtcs", "category": "music", "radius_km": "1", "near": "olin-library"}
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "No events match “robtcs” with these filters." in content
    assert 'class="did-you-mean"' in content
    assert "robotics" in content
    assert "Remove the category “Music”" in content
    assert "Widen the radius to 4 km" in content
    assert "All “Music” events" in content
    assert "All upcoming events" in content


@pytest.mark.usefixtures("robotics")
def test_empty_api_answer_carries_the_ways_out(client):
    query = {"q": "robotics", "category": ["music", "clubs"], "from": "2099-01-01"}
    body = client.get(f"{API}/events", query).json()

    assert body["count"] == 0
    ways = {way["label"]: way for way in body["ways_out"]}
    assert set(ways) >= {"Remove the category “Music”", "Any date", "All upcoming events"}
    any_date = ways["Any date"]
    assert any_date["params"] == {"q": ["robotics"], "category": ["music", "clubs"]}
    assert client.get(any_date["url"]).json()["count"] == 1
    # Something matched: no ways out needed.
    assert client.get(any_date["url"]).json()["ways_out"] == []
