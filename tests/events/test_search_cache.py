"""Search results cache (events/search/result_cache.py): fewer statements, never stale."""

import pytest
from django.core.cache import cache
from django.urls import reverse, set_script_prefix

from events.models import EventPost, SearchSynonym
from events.search import SearchParams, event_search, search_words_refresh
from events.search.result_cache import GENERATION_KEY
from events.search.synonyms import synonym_map
from events.services import event_cancel, event_update
from events.services.locking import counters_add
from tests.factories import EventCategoryFactory, EventPostFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def jazz():
    music = EventCategoryFactory(slug="music", name="Music")
    events = [
        EventPostFactory(title=f"Jazz night {number}", category=music, capacity=10)
        for number in range(3)
    ]
    EventPostFactory(title="Chess club", category=music)
    synonym_map()  # read once per process and cached, as in test_search.py's query counts
    return events


def _titles(params: SearchParams) -> list[str]:
    return [event.title for event in event_search(params).events]


def test_a_repeated_search_reads_only_the_page_rows(jazz, django_assert_num_queries):
    with django_assert_num_queries(2):  # the plan facts, then the one search statement
        first = event_search(SearchParams(q="jazz"))
    with django_assert_num_queries(1):  # the page's rows by id
        again = event_search(SearchParams(q="jazz"))

    assert [e.pk for e in again.events] == [e.pk for e in first.events]
    assert [e.headline_title for e in again.events] == [e.headline_title for e in first.events]  # type: ignore[attr-defined]
    assert [e.rank for e in again.events] == [e.rank for e in first.events]  # type: ignore[attr-defined]
    assert (again.total, again.facets, again.num_pages) == (first.total, first.facets, 1)
    assert again.events[0].category.name == "Music"


def test_an_empty_result_from_the_cache_needs_no_sql(jazz, django_assert_num_queries):
    event_search(SearchParams(q="zzyzx", exact=True))
    with django_assert_num_queries(0):
        assert event_search(SearchParams(q="zzyzx", exact=True)).total == 0


def test_search_page_statement_count(jazz, client, settings, django_assert_num_queries):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0  # every request renders the page
    with django_assert_num_queries(3):  # the category list (then cached), plan facts, search
        assert "night 0" in client.get("/search/", {"q": "jazz"}).content.decode()
    with django_assert_num_queries(1):  # the page's rows
        assert "night 0" in client.get("/search/", {"q": "jazz"}).content.decode()


def test_api_search_statement_count(jazz, client, django_assert_num_queries):
    with django_assert_num_queries(2):  # the plan facts, the search
        first = client.get(f"{API}/events", {"q": "jazz"}).json()
    with django_assert_num_queries(1):  # the page's rows
        again = client.get(f"{API}/events", {"q": "jazz"}).json()

    assert again == first
    assert first["count"] == 3


def test_an_edited_title_shows_in_the_next_search(jazz):
    assert len(_titles(SearchParams(q="jazz"))) == 3
    event_update(event_id=jazz[0].pk, by=jazz[0].organizer, title="Salsa night")

    assert len(_titles(SearchParams(q="jazz"))) == 2
    assert _titles(SearchParams(q="salsa")) == ["Salsa night"]


def test_a_cancelled_event_leaves_the_next_search(jazz):
    assert len(_titles(SearchParams(q="jazz"))) == 3
    event_cancel(event_id=jazz[1].pk, by=jazz[1].organizer, reason="The band is ill.")

    assert "Jazz night 1" not in _titles(SearchParams(q="jazz"))
    assert "Jazz night 1" in _titles(SearchParams(q="jazz", include_cancelled=True))


def test_a_new_event_shows_in_the_next_search(jazz, client, settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
    assert client.get(f"{API}/events", {"q": "jazz"}).json()["count"] == 3
    EventPostFactory(title="Jazz brunch", category=jazz[0].category)

    assert client.get(f"{API}/events", {"q": "jazz"}).json()["count"] == 4
    assert "brunch" in client.get("/search/", {"q": "jazz"}).content.decode()


def test_seats_left_are_read_fresh_on_a_cache_hit(jazz):
    event_search(SearchParams(q="jazz"))
    counters_add(event=jazz[0], seats=4)  # an UPDATE: sends no signal, bumps nothing

    found = {event.pk: event for event in event_search(SearchParams(q="jazz")).events}
    assert found[jazz[0].pk].seats_left == 6


def test_a_new_synonym_applies_to_the_next_search(jazz):
    assert _titles(SearchParams(q="jzz", exact=True)) == []
    SearchSynonym.objects.create(term="jzz", expansion="jazz")

    assert len(_titles(SearchParams(q="jzz", exact=True))) == 3


def test_a_search_during_an_uncommitted_change_cannot_keep_the_old_answer(
    jazz, django_capture_on_commit_callbacks
):
    before = cache.get(GENERATION_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        event = EventPost.objects.get(pk=jazz[2].pk)
        event.title = "Opera night"
        event.save()
        during = cache.get(GENERATION_KEY)
    # Stale at once, and again at the commit: a search that read the old rows in between
    # stored its answer under `during`, which no longer matches.
    assert before < during < cache.get(GENERATION_KEY)


def test_searches_work_without_redis(jazz, settings):
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["LOCATION"] = "redis://127.0.0.1:1/0"
    settings.CACHES = caches

    assert len(_titles(SearchParams(q="jazz"))) == 3
    assert len(_titles(SearchParams(q="jazz"))) == 3


def test_a_word_found_only_in_a_description_is_not_corrected():
    # "tango" is in one description; three titles say "tangent", a close word (similarity 0.4).
    EventPostFactory(title="Dance lesson", description="Learn the tango with us.")
    for number in range(3):
        EventPostFactory(title=f"Tangent talk {number}")
    search_words_refresh()

    results = event_search(SearchParams(q="tango"))
    assert results.corrected_query is None
    assert [event.title for event in results.events] == ["Dance lesson"]
    # A real typo is still corrected, to a word of a title or of a description.
    assert event_search(SearchParams(q="tangnt")).corrected_query == "tangent"


def test_detail_url_is_what_reverse_gives_under_any_script_prefix(jazz):
    event = jazz[0]
    assert event.get_absolute_url() == reverse("events:detail", kwargs={"pk": event.pk})
    try:
        set_script_prefix("/eren/")
        assert event.get_absolute_url() == reverse("events:detail", kwargs={"pk": event.pk})
        assert event.get_absolute_url().startswith("/eren/")
    finally:
        set_script_prefix("/")


def test_the_category_list_is_cached_until_a_category_changes(
    client, settings, django_assert_num_queries
):
    from events import selectors

    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
    music = EventCategoryFactory(slug="music", name="Music")
    assert [choice.slug for choice in selectors.category_choices()] == ["music"]
    with django_assert_num_queries(0):
        assert selectors.category_choices() == [("music", "Music")]

    EventCategoryFactory(slug="art", name="Art")
    assert selectors.category_choices() == [("art", "Art"), ("music", "Music")]
    music.name = "Music and dance"
    music.save()
    assert selectors.category_choices()[1] == ("music", "Music and dance")
    page = client.get("/search/", {"category": "art"})
    assert page.status_code == 200
    assert 'value="art"' in page.content.decode()
    music.delete()
    assert selectors.category_choices() == [("art", "Art")]
    assert client.get("/search/", {"category": "music"}).status_code == 400
