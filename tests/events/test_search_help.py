"""Search that helps: the empty page, paging past the end, typo correction, synonyms."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from events.models import SearchSynonym
from events.search import (
    SearchParams,
    event_search,
    event_suggest,
    prefix_index_rebuild,
    prefix_index_refresh,
    search_words_refresh,
)
from events.search.prefix_index import prefix_index_suggest
from events.search.synonyms import synonym_map
from events.tasks import search_prefix_index_refresh_task
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


# --- paging ------------------------------------------------------------------------------------


@pytest.fixture
def five_jazz_events():
    for number in range(5):
        EventPostFactory(
            title=f"Jazz {number}", starts_at=timezone.now() + dt.timedelta(days=1, hours=number)
        )


@pytest.mark.usefixtures("five_jazz_events")
def test_capped_search_never_shows_another_pages_results(monkeypatch):
    monkeypatch.setattr("events.search.plan.CANDIDATE_LIMIT", 3)

    last = event_search(SearchParams(q="jazz"), page=2, page_size=2)
    past = event_search(SearchParams(q="jazz"), page=3, page_size=2)

    assert [event.title for event in last.events] == ["Jazz 2"]
    assert (last.total, last.total_is_capped, last.paging_is_capped) == (3, True, True)
    assert past.is_past_end
    assert past.events == []


@pytest.mark.usefixtures("five_jazz_events")
def test_page_past_the_end_shows_the_last_page_on_the_web(client, monkeypatch):
    monkeypatch.setattr("events.views.PAGE_SIZE", 2)

    response = client.get("/search/", {"q": "jazz", "page": "9"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "Page 9 is past the end; this is the last page, 3." in content
    assert "Jazz</mark> 4" in content
    assert "Jazz</mark> 0" not in content


@pytest.mark.usefixtures("five_jazz_events")
def test_page_past_the_end_is_a_404_with_the_reason_in_the_api(client):
    response = client.get(f"{API}/events", {"q": "jazz", "page": "4", "page_size": "2"})

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "page_out_of_range"
    assert error["message"] == "Page 4 is past the last page (3)."
    last = client.get(f"{API}/events", {"q": "jazz", "page": "3", "page_size": "2"}).json()
    assert ([hit["title"] for hit in last["results"]], last["num_pages"]) == (["Jazz 4"], 3)


@pytest.mark.parametrize("page", ["10001", "99999999999999999999", "0"])
def test_huge_page_numbers_stay_a_400_on_the_page_and_422_in_the_api(client, page):
    assert client.get("/search/", {"q": "jazz", "page": page}).status_code == 400
    assert client.get(f"{API}/events", {"q": "jazz", "page": page}).status_code == 422


# --- typos mixed in ------------------------------------------------------------------------------


@pytest.fixture
def tournament():
    EventPostFactory(title="Basketball tournament", description="Three on three.")
    EventPostFactory(title="Chess evening", description="Bring a board.")
    search_words_refresh()


@pytest.mark.usefixtures("tournament")
def test_typos_are_corrected_and_said_so():
    results = event_search(SearchParams(q="basktball tournment"))

    assert results.corrected_query == "basketball tournament"
    assert [event.title for event in results.events] == ["Basketball tournament"]
    exact = event_search(SearchParams(q="basktball tournment", exact=True))
    assert (exact.total, exact.did_you_mean) == (0, "basketball tournament")


@pytest.mark.usefixtures("tournament")
def test_one_right_word_and_one_typo_finds_the_event_on_page_and_api(client):
    content = client.get("/search/", {"q": "basketball tournment"}).content.decode()

    assert "Showing results for <strong>basketball tournament</strong>" in content
    assert "?q=basketball+tournment&amp;exact=1" in content
    assert "Basketball</mark> <mark>tournament" in content
    body = client.get(f"{API}/events", {"q": "basketball tournment"}).json()
    assert body["corrected_query"] == "basketball tournament"
    assert [hit["title"] for hit in body["results"]] == ["Basketball tournament"]


@pytest.mark.usefixtures("tournament")
def test_a_query_that_matches_is_not_corrected():
    results = event_search(SearchParams(q="chess"))

    assert (results.corrected_query, results.did_you_mean, results.total) == (None, None, 1)


# --- campus synonyms ---------------------------------------------------------------------------


@pytest.mark.usefixtures("tournament")
def test_seeded_abbreviations_find_what_they_stand_for():
    EventPostFactory(title="Open mic night", location_name="Danforth University Center")

    assert [event.title for event in event_search(SearchParams(q="bball")).events] == [
        "Basketball tournament"
    ]
    assert [event.title for event in event_search(SearchParams(q="duc open")).events] == [
        "Open mic night"
    ]
    # Inside a phrase, words are taken as typed.
    assert event_search(SearchParams(q='"bball"', exact=True)).total == 0


@pytest.mark.usefixtures("tournament")
def test_a_synonym_saved_in_the_admin_is_used_at_once(admin_client):
    assert event_search(SearchParams(q="hoops", exact=True)).total == 0

    response = admin_client.post(
        "/admin/events/searchsynonym/add/", {"term": "Hoops", "expansion": "basketball"}
    )

    assert response.status_code == 302
    assert SearchSynonym.objects.get(expansion="basketball", term="hoops")
    assert event_search(SearchParams(q="hoops", exact=True)).total == 1


# --- suggestions: the Redis prefix index and its fallback ----------------------------------------


@pytest.fixture
def indexed(tournament):
    EventPostFactory(title="Basketball practice", starts_at=timezone.now() + dt.timedelta(days=9))
    prefix_index_rebuild()


@pytest.mark.usefixtures("indexed")
def test_suggestions_come_from_redis_without_sql(django_assert_num_queries):
    synonym_map()  # cached per process like everything else a keystroke needs

    with django_assert_num_queries(0):
        assert event_suggest("bask") == ["Basketball tournament", "Basketball practice"]
        assert event_suggest("bask pra") == ["Basketball practice"]
        assert event_suggest("bball tour") == ["Basketball tournament"]
        assert event_suggest("chess zzz") == []


@pytest.mark.usefixtures("indexed")
def test_the_index_leaves_out_events_that_ended_since_it_was_built():
    later = timezone.now() + dt.timedelta(days=5)

    assert event_suggest("bask", now=later) == ["Basketball practice"]


@pytest.mark.usefixtures("indexed")
def test_a_cut_prefix_list_is_answered_by_postgresql(monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr("events.search.prefix_index.PREFIX_KEEP", 1)
    prefix_index_rebuild()

    with django_assert_max_num_queries(3):
        assert event_suggest("bask") == ["Basketball tournament", "Basketball practice"]


@pytest.mark.usefixtures("indexed")
def test_suggestions_fall_back_to_postgresql_when_redis_is_down(settings):
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["LOCATION"] = "redis://127.0.0.1:1/0"
    settings.CACHES = caches

    assert prefix_index_suggest(["basketball"], limit=8) is None
    assert event_suggest("bball") == ["Basketball tournament", "Basketball practice"]
    assert search_prefix_index_refresh_task() is None  # nothing to build into, no error


def test_an_edited_title_reaches_the_index_on_the_next_refresh():
    event = EventPostFactory(title="Robotics club")
    assert prefix_index_refresh() is not None  # never built: builds
    assert prefix_index_refresh() is None  # fresh, nothing changed
    event.title = "Rocketry club"
    event.save()

    assert prefix_index_refresh() is not None
    assert event_suggest("roc") == ["Rocketry club"]
    assert event_suggest("rob") == []


@pytest.mark.usefixtures("tournament")
def test_the_api_search_hits_are_what_the_documented_schema_gives(client):
    from ninja.responses import NinjaJSONEncoder

    from events.api import SearchHitOut

    (event,) = event_search(SearchParams(q="basketball")).events
    schema_hit = SearchHitOut.model_validate(event).model_dump()

    (hit,) = client.get(f"{API}/events", {"q": "basketball"}).json()["results"]

    assert hit == json.loads(json.dumps(schema_hit, cls=NinjaJSONEncoder))
