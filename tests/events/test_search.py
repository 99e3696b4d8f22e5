import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from events.models import EventPost
from events.search import (
    CAMPUS_PLACES,
    HIGHLIGHT_START,
    HIGHLIGHT_STOP,
    SearchParams,
    SearchParamsError,
    event_search,
    event_suggest,
    highlight_segments,
    mark_highlights,
    parse_page_number,
    parse_search_params,
    search_words_refresh,
)
from events.search.params import MAX_QUERY_LENGTH
from events.search.synonyms import synonym_map
from tests.factories import EventCategoryFactory, EventPostFactory

pytestmark = pytest.mark.django_db

CENTRAL = ZoneInfo("America/Chicago")
OLIN = CAMPUS_PLACES["olin-library"]


@pytest.fixture(params=["index", "walk"])
def plan(request, monkeypatch):
    """Run the test under both plans event_search chooses between, whatever the data size."""
    monkeypatch.setattr(
        "events.search.plan.prefers_index", lambda *_, **__: request.param == "index"
    )
    return request.param


def titles(results) -> list[str]:
    return [event.title for event in results.events]


def search(**params) -> list[str]:
    return titles(event_search(SearchParams(**params)))


# --- relevance and query syntax -----------------------------------------------------------------


@pytest.mark.usefixtures("plan")
def test_title_match_ranks_above_description_match():
    EventPostFactory(title="Board games evening", description="Bring your chess set.")
    EventPostFactory(title="Chess club", description="Weekly games.")

    assert search(q="chess") == ["Chess club", "Board games evening"]


@pytest.mark.usefixtures("plan")
def test_equal_relevance_is_ordered_by_start_time():
    soon = timezone.now() + dt.timedelta(days=1)
    EventPostFactory(title="Jazz night late", starts_at=soon + dt.timedelta(days=2))
    EventPostFactory(title="Jazz night early", starts_at=soon)

    assert search(q="jazz") == ["Jazz night early", "Jazz night late"]


@pytest.mark.usefixtures("plan")
def test_quoted_phrase_needs_the_words_together():
    EventPostFactory(title="Free pizza Friday", description="")
    EventPostFactory(title="Pizza for everyone", description="Entry is free.")

    assert search(q='"free pizza"') == ["Free pizza Friday"]
    assert len(search(q="free pizza")) == 2


@pytest.mark.usefixtures("plan")
def test_minus_excludes_a_word():
    EventPostFactory(title="Basketball tournament")
    EventPostFactory(title="Basketball practice")

    assert search(q="basketball -tournament") == ["Basketball practice"]


@pytest.mark.usefixtures("plan")
def test_or_matches_either_word():
    EventPostFactory(title="Salsa lessons")
    EventPostFactory(title="Tango lessons")
    EventPostFactory(title="Knitting circle")

    assert sorted(search(q="salsa or tango")) == ["Salsa lessons", "Tango lessons"]


def test_query_of_stop_words_and_operators_lists_upcoming_events():
    EventPostFactory(title="Chess club")

    assert search(q="the") == ["Chess club"]
    assert search(q='" -') == ["Chess club"]


# --- filters and facets -------------------------------------------------------------------------


@pytest.mark.usefixtures("plan")
def test_category_filter_and_facets_that_ignore_it():
    music = EventCategoryFactory(slug="music", name="Music")
    sports = EventCategoryFactory(slug="sports", name="Sports")
    EventCategoryFactory(slug="career", name="Career")
    EventPostFactory(title="Jazz band", category=music)
    EventPostFactory(title="Jazz choir", category=music)
    EventPostFactory(title="Jazz on ice", category=sports)
    EventPostFactory(title="Hockey game", category=sports)

    results = event_search(SearchParams(q="jazz", categories=("music",)))

    assert sorted(titles(results)) == ["Jazz band", "Jazz choir"]
    assert results.total == 2
    assert [tuple(facet) for facet in results.facets] == [
        ("music", "Music", 2),
        ("sports", "Sports", 1),
    ]
    assert not results.facets_are_capped


def test_selected_category_without_matches_still_has_a_facet():
    EventCategoryFactory(slug="career", name="Career")
    EventPostFactory(title="Jazz band")

    results = event_search(SearchParams(q="jazz", categories=("career",)))

    assert results.total == 0
    assert ("career", "Career", 0) in results.facets


@pytest.mark.usefixtures("plan")
def test_date_range_is_in_central_time():
    now = dt.datetime(2030, 1, 10, 12, tzinfo=dt.UTC)
    # 23:00 Central on 1 February is already 2 February in UTC.
    late_evening = dt.datetime(2030, 2, 1, 23, tzinfo=CENTRAL)
    EventPostFactory(
        title="Late show", starts_at=late_evening, ends_at=late_evening + dt.timedelta(minutes=45)
    )
    first, second = dt.date(2030, 2, 1), dt.date(2030, 2, 2)

    def on(day_from, day_to):
        return titles(event_search(SearchParams(date_from=day_from, date_to=day_to), now=now))

    assert on(first, first) == ["Late show"]
    assert on(second, second) == []
    assert on(None, first) == ["Late show"]
    assert on(second, None) == []


def test_date_range_includes_events_running_on_that_day():
    now = dt.datetime(2030, 1, 10, 12, tzinfo=dt.UTC)
    start = dt.datetime(2030, 2, 1, 9, tzinfo=CENTRAL)
    EventPostFactory(title="Hackathon", starts_at=start, ends_at=start + dt.timedelta(days=2))

    day = dt.date(2030, 2, 2)
    assert titles(event_search(SearchParams(date_from=day, date_to=day), now=now)) == ["Hackathon"]


@pytest.mark.usefixtures("plan")
def test_near_sorts_by_distance_and_drops_events_outside_the_radius():
    EventPostFactory(title="Far", latitude=OLIN.latitude + 0.02, longitude=OLIN.longitude)
    EventPostFactory(title="Near", latitude=OLIN.latitude + 0.001, longitude=OLIN.longitude)
    EventPostFactory(title="Middle", latitude=OLIN.latitude + 0.005, longitude=OLIN.longitude)
    EventPostFactory(title="Nowhere", latitude=None, longitude=None)
    near = (OLIN.latitude, OLIN.longitude)

    results = event_search(SearchParams(near=near, radius_km=1.0, sort="distance"))

    assert titles(results) == ["Near", "Middle"]
    assert [round(event.distance_km, 2) for event in results.events] == [0.11, 0.56]
    wide = event_search(SearchParams(near=near, radius_km=5.0, sort="distance"))
    assert titles(wide) == ["Near", "Middle", "Far"]


def test_near_by_building_name_or_slug_or_coordinates():
    by_slug = parse_search_params({"near": "olin-library", "radius_km": "2"})
    by_name = parse_search_params({"near": "Olin Library"})
    by_point = parse_search_params({"near": "38.6485, -90.3078"})
    by_fields = parse_search_params({"lat": "38.6485", "lng": "-90.3078"})

    assert by_slug.near == by_name.near == (OLIN.latitude, OLIN.longitude)
    assert by_slug.near_label == "Olin Library"
    assert by_point.near == by_fields.near == (38.6485, -90.3078)


@pytest.mark.usefixtures("plan")
def test_drafts_cancelled_and_past_events_are_excluded_by_default():
    now = timezone.now()
    EventPostFactory(title="Open rehearsal")
    EventPostFactory(title="Draft rehearsal", status=EventPost.Status.DRAFT)
    EventPostFactory(
        title="Cancelled rehearsal",
        status=EventPost.Status.CANCELLED,
        cancellation_reason="Storm",
    )
    EventPostFactory(
        title="Past rehearsal",
        starts_at=now - dt.timedelta(days=2),
        ends_at=now - dt.timedelta(days=2, hours=-2),
    )
    EventPostFactory(
        title="Running rehearsal",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
    )

    assert sorted(search(q="rehearsal")) == ["Open rehearsal", "Running rehearsal"]
    assert "Past rehearsal" in search(q="rehearsal", include_past=True)
    assert "Cancelled rehearsal" in search(q="rehearsal", include_cancelled=True)
    everything = search(q="rehearsal", include_past=True, include_cancelled=True)
    assert "Draft rehearsal" not in everything


def test_sort_defaults_to_relevance_with_a_query_and_start_without():
    assert SearchParams(q="jazz").sort == "relevance"
    assert SearchParams().sort == "start"
    assert parse_search_params({"q": "jazz", "sort": "start"}).sort == "start"


# --- highlighting -------------------------------------------------------------------------------


def test_headline_marks_the_match_and_rendering_escapes_html():
    EventPostFactory(
        title="<script>alert(1)</script> Jazz night",
        description="Live jazz & <img src=x onerror=alert(1)> snacks.",
    )

    (event,) = event_search(SearchParams(q="jazz")).events

    assert f"{HIGHLIGHT_START}Jazz{HIGHLIGHT_STOP}" in event.headline_title
    assert mark_highlights(event.headline_title) == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Jazz</mark> night"
    )
    description_html = mark_highlights(event.headline_description)
    assert "Live <mark>jazz</mark> &amp;" in description_html
    assert "<img" not in description_html


def test_headline_of_a_long_description_shows_the_first_match():
    filler = "Bring a friend and a water bottle to the quad. " * 60  # ~2,900 characters
    EventPostFactory(
        title="Spring fair", description=f"{filler}The Ultimate club meets here. {filler}"
    )

    (event,) = event_search(SearchParams(q="clubs")).events

    assert f"Ultimate {HIGHLIGHT_START}club{HIGHLIGHT_STOP} meets" in event.headline_description
    assert len(event.headline_description) < 300


def test_markers_typed_into_event_text_are_not_highlights():
    EventPostFactory(title=f"Jazz {HIGHLIGHT_START}<img src=x>{HIGHLIGHT_STOP} night")

    (event,) = event_search(SearchParams(q="jazz")).events

    html = mark_highlights(event.headline_title)
    assert html.count("<mark>") == 1
    assert "<img" not in html


def test_highlight_segments_for_json_clients():
    text = f"Free {HIGHLIGHT_START}pizza{HIGHLIGHT_STOP} night"

    assert highlight_segments(text) == [("Free ", False), ("pizza", True), (" night", False)]


# --- did you mean, suggestions --------------------------------------------------------------------


def test_did_you_mean_offers_the_closest_title_word_when_searching_exactly():
    EventPostFactory(title="Basketball tournament")
    search_words_refresh()

    results = event_search(SearchParams(q="basketbal", exact=True))

    assert results.total == 0
    assert results.did_you_mean == "basketball"


def test_correction_keeps_correct_words_and_operators():
    EventPostFactory(title="Basketball tournament")
    EventPostFactory(title="Chess evening")
    search_words_refresh()

    results = event_search(SearchParams(q="tournament basketbll -chess"))

    assert results.corrected_query == "tournament basketball -chess"
    assert titles(results) == ["Basketball tournament"]


def test_no_did_you_mean_when_something_matches():
    EventPostFactory(title="Basketball tournament")
    search_words_refresh()

    assert event_search(SearchParams(q="basketball")).did_you_mean is None


@pytest.mark.usefixtures("plan")
def test_suggest_matches_title_word_prefixes_of_upcoming_events():
    now = timezone.now()
    EventPostFactory(title="Basketball Tournament")
    EventPostFactory(title="Base camp climbing")
    EventPostFactory(title="Tournament of basketballers", status=EventPost.Status.DRAFT)
    EventPostFactory(
        title="Basketball Finals",
        starts_at=now - dt.timedelta(days=3),
        ends_at=now - dt.timedelta(days=3, hours=-2),
    )

    assert event_suggest("bask") == ["Basketball Tournament"]
    assert event_suggest("tourn bas") == ["Basketball Tournament"]
    assert sorted(event_suggest("BAS")) == ["Base camp climbing", "Basketball Tournament"]
    assert event_suggest("basketball t") == ["Basketball Tournament"]
    assert event_suggest("b") == []


def test_suggest_returns_each_title_once_up_to_the_limit():
    for _ in range(3):
        EventPostFactory(title="Yoga flow")
    for number in range(5):
        EventPostFactory(title=f"Yoga {number}")

    assert event_suggest("yog", limit=3) == ["Yoga flow", "Yoga 0", "Yoga 1"]


@pytest.mark.parametrize(
    "prefix",
    ["", "   ", '"', "-", "or or", "a:*", "'; DROP TABLE events_eventpost; --", "&|!()<->",
     "\x00", "x" * 10_000, "日本", "\ud800"],
)  # fmt: skip
def test_suggest_is_safe_for_any_input(prefix):
    EventPostFactory(title="Yoga flow")

    assert isinstance(event_suggest(prefix), list)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"from": "2026-13-45"}, "from", "not a real date"),
        ({"from": "yesterday"}, "from", "YYYY-MM-DD"),
        ({"to": "99999-01-01"}, "to", "YYYY-MM-DD"),
        ({"to": "9999-12-31"}, "to", "between"),
        ({"from": "2026-12-10", "to": "2026-12-01"}, "to", "before the start date"),
        ({"lat": "91", "lng": "0"}, "lat", "between -90 and 90"),
        ({"lat": "0", "lng": "-181"}, "lat", "between -180 and 180"),
        ({"lat": "abc", "lng": "1"}, "lat", "must be numbers"),
        ({"lat": "38.6"}, "lat", "must be numbers"),
        ({"lat": "nan", "lng": "1"}, "lat", "must be numbers"),
        ({"near": "1000,1000"}, "near", "between -90 and 90"),
        ({"near": "Hogwarts"}, "near", "Unknown place"),
        ({"near": "olin-library", "lat": "1", "lng": "1"}, "near", "not both"),
        ({"near": "olin-library", "radius_km": "-1"}, "radius_km", "more than 0"),
        ({"near": "olin-library", "radius_km": "0"}, "radius_km", "more than 0"),
        ({"near": "olin-library", "radius_km": "1000"}, "radius_km", "at most 50"),
        ({"near": "olin-library", "radius_km": "inf"}, "radius_km", "a number"),
        ({"near": "olin-library", "radius_km": "ten"}, "radius_km", "a number"),
        ({"radius_km": "5"}, "radius_km", "needs a place"),
        ({"sort": "popularity"}, "sort", "relevance, start, distance"),
        ({"sort": "distance"}, "sort", "needs a place"),
        ({"past": "maybe"}, "past", "1 or 0"),
        ({"category": ["nope"]}, "category", "Unknown category “nope”"),
        ({"category": ["' OR 1=1 --"]}, "category", "Unknown category “' or 1=1 --”"),
    ],
)
def test_bad_input_is_a_clear_error(data, field, message):
    with pytest.raises(SearchParamsError) as raised:
        parse_search_params(data)

    assert field in raised.value.fields
    assert any(message in text for text in raised.value.fields[field])


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(SearchParamsError) as raised:
        parse_search_params({"from": "x", "sort": "y", "category": "nope"})

    assert set(raised.value.fields) == {"from", "sort", "category"}


def test_known_categories_are_accepted_from_a_query_dict():
    from django.http import QueryDict

    EventCategoryFactory(slug="music")
    EventCategoryFactory(slug="sports")

    params = parse_search_params(QueryDict("category=music&category=sports&category=music"))

    assert params.categories == ("music", "sports")


@pytest.mark.parametrize(
    "q",
    ['"', "-", "or or", "!", "'", "(", "&", "a:*", "<->", '"unterminated phrase', "-(-)",
     "'; DROP TABLE events_eventpost; --", "<script>alert(1)</script>", "\x00jazz", "\ud800",
     "jazz " * 2_000],
)  # fmt: skip
def test_hostile_queries_return_a_harmless_result(q):
    EventPostFactory(title="Jazz night")

    params = parse_search_params({"q": q})
    results = event_search(params)

    assert len(params.q) <= MAX_QUERY_LENGTH
    assert results.total in (0, 1)
    assert EventPost.objects.count() == 1


def test_ten_thousand_character_query_is_cut_at_a_word_boundary():
    params = parse_search_params({"q": "jazz " * 2_000})

    assert len(params.q) <= MAX_QUERY_LENGTH
    assert params.q.endswith("jazz")


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "99999999999999999999"])
def test_bad_page_numbers_are_errors(value):
    with pytest.raises(SearchParamsError) as raised:
        parse_page_number(value)

    assert "page" in raised.value.fields


def test_page_numbers():
    assert parse_page_number(None) == 1
    assert parse_page_number("3") == 3


# --- pagination and query count -----------------------------------------------------------------


def test_pages_follow_each_other():
    start = timezone.now() + dt.timedelta(days=1)
    for number in range(5):
        EventPostFactory(title=f"Jazz {number}", starts_at=start + dt.timedelta(hours=number))

    first = event_search(SearchParams(), page=1, page_size=2)
    last = event_search(SearchParams(), page=3, page_size=2)

    assert titles(first) == ["Jazz 0", "Jazz 1"]
    assert (first.total, first.num_pages, first.has_next()) == (5, 3, True)
    assert titles(last) == ["Jazz 4"]
    assert (last.has_next(), last.has_previous()) == (False, True)


@pytest.mark.parametrize(
    ("estimated", "event_rows", "expected"),
    [
        (None, 500_000, False),  # no text or place filter: nothing to look up
        (50, 500_000, True),  # rare word: every match through GIN
        (7_000, 500_000, False),  # more than the walk's window would read
        (2_400, 5_000, False),  # half the table: the walk finds its matches sooner
        (80, 5_000, True),
    ],
)
def test_plan_choice_reads_the_fewest_rows(estimated, event_rows, expected):
    from events.search.plan import prefers_index as _prefers_index

    chosen = _prefers_index(estimated, event_rows=event_rows, wanted=500, window=5_000)

    assert chosen is expected


@pytest.mark.parametrize(
    ("estimated", "index_rows", "expected"),
    [
        (800, None, True),  # at 5,000 events: fewer matches than the walk would read
        (800, 2_400, False),  # `club -meeting`: the index fetches every `club` event first
        (2_600, 5_000, False),  # negations only: the index cannot narrow anything
    ],
)
def test_plan_choice_counts_what_the_index_fetches(estimated, index_rows, expected):
    from events.search.plan import prefers_index as _prefers_index

    chosen = _prefers_index(
        estimated, event_rows=5_000, wanted=200, window=5_000, index_rows=index_rows
    )

    assert chosen is expected


def test_totals_are_capped(monkeypatch):
    monkeypatch.setattr("events.search.plan.CANDIDATE_LIMIT", 3)
    music = EventCategoryFactory(slug="music", name="Music")
    for number in range(5):
        EventPostFactory(title=f"Jazz {number}", category=music)

    results = event_search(SearchParams(q="jazz"))

    assert (results.total, results.total_is_capped, results.facets_are_capped) == (3, True, True)
    assert len(results.events) == 3


@pytest.mark.parametrize("page_size", [1, 20, 100])
@pytest.mark.parametrize(
    "params",
    [
        SearchParams(q="jazz", categories=("music",), near=(OLIN.latitude, OLIN.longitude)),
        SearchParams(q="jazz", near=(OLIN.latitude, OLIN.longitude), sort="distance"),
        SearchParams(q="zzyzx"),
        SearchParams(),
    ],
)
def test_query_count_is_fixed_whatever_the_page_size(
    django_assert_max_num_queries, page_size, params
):
    music = EventCategoryFactory(slug="music", name="Music")
    for number in range(30):
        EventPostFactory(
            title=f"Jazz {number}",
            category=music,
            latitude=OLIN.latitude,
            longitude=OLIN.longitude,
        )

    synonym_map()  # read once per process and cached, like the plan of a prepared statement
    with django_assert_max_num_queries(3):
        results = event_search(params, page_size=page_size)
        for event in results.events:
            assert event.category.name


def test_search_results_are_events_as_the_orm_loads_them():
    event = EventPostFactory(title="Chess club")

    (found,) = event_search(SearchParams(q="chess")).events

    loaded = EventPost.objects.defer("search_vector").select_related("category").get(pk=event.pk)
    names = [f.attname for f in EventPost._meta.concrete_fields if f.name != "search_vector"]
    assert {name: getattr(found, name) for name in names} == {
        name: getattr(loaded, name) for name in names
    }
    assert found.get_deferred_fields() == {"search_vector"}
    assert (found._state.adding, found._state.db) == (False, "default")
    assert (found.category, found.category.name) == (loaded.category, loaded.category.name)
    found.title = "Chess club, moved"
    found.save(update_fields=["title"])  # an UPDATE of the row, not a second event
    assert EventPost.objects.get(pk=event.pk).title == "Chess club, moved"
