"""Search lists events meeting the signed-in student's saved access needs first.

SearchParams.needs (events/search/params.py searcher_needs) adds one leading sort term to
the search statement's page; each group keeps the order the search uses otherwise.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.search import SearchParams, event_search, plan, searcher_needs
from tests.factories import EventPostFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/events"
# Brookings Hall; the events below sit 1, 2, 3 and 4 hundredths of a degree north of it.
HERE = (38.6480, -90.3050)


def _at(days: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


@pytest.fixture
def events():
    """Four events; in start order a, b, c, d, nearest first d, c, b, a."""
    made = {}
    for name, days, features, north in (
        ("a", 1, [], 0.04),
        ("b", 2, ["captions"], 0.03),
        ("c", 3, ["step_free"], 0.02),
        ("d", 4, ["step_free", "captions"], 0.01),
    ):
        made[name] = EventPostFactory(
            title=f"Jazz evening {name}",
            starts_at=_at(days),
            access_features=features,
            latitude=HERE[0] + north,
            longitude=HERE[1],
        )
    return made


def _link(event) -> str:
    return f'href="{event.get_absolute_url()}"'


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [hit["id"] for hit in response.json()["results"]]


def _pks(events, names: str) -> list[int]:
    return [events[name].pk for name in names]


@pytest.fixture
def step_free_student(client):
    student = UserFactory(access_needs=["step_free"])
    client.force_login(student)
    return student


@pytest.mark.parametrize(
    ("query", "plain", "needs_first"),
    [
        ({}, "abcd", "bdac"),
        ({"sort": "start"}, "abcd", "bdac"),
        ({"near": f"{HERE[0]},{HERE[1]}", "sort": "distance"}, "dcba", "dbca"),
        ({"near": f"{HERE[0]},{HERE[1]}", "radius_km": "50", "sort": "distance"}, "dcba", "dbca"),
        ({"past": "1"}, "dcba", "dbca"),
    ],
)
def test_each_sort_lists_events_meeting_the_needs_first(client, events, query, plain, needs_first):
    client.force_login(UserFactory(access_needs=["captions"]))
    response = client.get(API, query)
    assert _ids(response) == _pks(events, needs_first)
    assert response.json()["needs_first"] is True
    off = client.get(API, {**query, "needs_first": "0"})
    assert _ids(off) == _pks(events, plain)
    assert off.json()["needs_first"] is False


@pytest.mark.parametrize("strategy", ["index", "walk"])
def test_relevance_lists_events_meeting_the_needs_first(client, monkeypatch, strategy):
    if strategy == "walk":
        # The walk is chosen for common words; a handful of events never has any.
        monkeypatch.setattr(plan, "prefers_index", lambda *args, **kwargs: False)
    best = EventPostFactory(title="Robot robot robots", starts_at=_at(1))
    middle = EventPostFactory(title="Robot arm", starts_at=_at(2), access_features=["step_free"])
    worst = EventPostFactory(
        title="Engineering open house",
        description="A robot may be shown.",
        starts_at=_at(3),
        access_features=["step_free", "asl"],
    )
    anonymous = _ids(client.get(API, {"q": "robot"}))
    assert anonymous == [best.pk, middle.pk, worst.pk]

    client.force_login(UserFactory(access_needs=["step_free"]))
    assert _ids(client.get(API, {"q": "robot"})) == [middle.pk, worst.pk, best.pk]
    client.force_login(UserFactory(access_needs=["asl"]))
    assert _ids(client.get(API, {"q": "robot"})) == [worst.pk, best.pk, middle.pk]


def test_anonymous_and_students_without_needs_see_the_usual_order(client, events):
    response = client.get(API)
    assert _ids(response) == _pks(events, "abcd")
    assert response.json()["needs_first"] is False

    client.force_login(UserFactory(access_needs=[]))
    response = client.get(API)
    assert _ids(response) == _pks(events, "abcd")
    assert response.json()["needs_first"] is False


def test_a_search_filtered_to_the_needs_has_nothing_to_put_first(client, events):
    client.force_login(UserFactory(access_needs=["step_free"]))
    response = client.get(API, {"access": ["step_free", "captions"]})

    assert _ids(response) == _pks(events, "d")
    assert response.json()["needs_first"] is False
    student = UserFactory.build(access_needs=["step_free"])
    assert searcher_needs(SearchParams(access=("step_free",)), student).needs == ()
    assert searcher_needs(SearchParams(), student).needs == ("step_free",)
    assert searcher_needs(SearchParams(needs_first=False), student).needs == ()


def test_the_result_cache_keeps_each_students_order_apart(client, events):
    client.force_login(UserFactory(access_needs=["step_free"]))
    assert _ids(client.get(API)) == _pks(events, "cdab")
    client.force_login(UserFactory(access_needs=["captions"]))
    assert _ids(client.get(API)) == _pks(events, "bdac")
    client.logout()
    assert _ids(client.get(API)) == _pks(events, "abcd")
    client.force_login(UserFactory(access_needs=["step_free"]))
    assert _ids(client.get(API)) == _pks(events, "cdab")

    # Without the needs in the key, the second student would be served the first's order.
    first = event_search(SearchParams(needs=("step_free",)))
    second = event_search(SearchParams(needs=("captions",)))
    assert [e.pk for e in first.events] != [e.pk for e in second.events]


def test_pages_follow_the_needs_first_order_without_gaps(client, events, step_free_student):
    more = [
        EventPostFactory(title=f"Late {n}", starts_at=_at(10 + n), access_features=["step_free"])
        for n in range(3)
    ]
    everything = _ids(client.get(API, {"page_size": 20}))
    pages = [_ids(client.get(API, {"page_size": 3, "page": page})) for page in (1, 2, 3)]

    assert everything == [*_pks(events, "cd"), *[e.pk for e in more], *_pks(events, "ab")]
    assert [pk for page in pages for pk in page] == everything
    last = client.get(API, {"page_size": 3, "page": 3}).json()
    assert last["has_next"] is False


def test_candidate_cap_is_respected_when_needs_reorder(client, monkeypatch, step_free_student):
    # matched holds one row past the cap; reordered, it must not move up into a page.
    monkeypatch.setattr(plan, "CANDIDATE_LIMIT", 2)
    first = EventPostFactory(starts_at=_at(1))
    second = EventPostFactory(starts_at=_at(2))
    EventPostFactory(starts_at=_at(3), access_features=["step_free"])

    response = client.get(API, {"page_size": 5})
    assert _ids(response) == [first.pk, second.pk]
    assert response.json()["count_is_capped"] is True


@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_a_bad_needs_first_value_is_refused_with_a_reason(client, step_free_student, value):
    api = client.get(API, {"needs_first": value})
    assert api.status_code == 422
    assert api.json()["error"]["fields"]["needs_first"] == ["Use 1 or 0."]

    page = client.get(reverse("events:search"), {"needs_first": value})
    assert page.status_code == 400
    assert "needs_first: Use 1 or 0." in page.content.decode()


def test_search_page_says_so_and_links_the_usual_order(client, events, step_free_student):
    content = client.get(reverse("events:search"), {"q": "jazz"}).content.decode()
    assert "Events that meet your access needs come first." in content
    assert "?q=jazz&amp;needs_first=0" in content
    assert reverse("users:account") + "#profile-heading" in content
    assert content.index(_link(events["c"])) < content.index(_link(events["a"]))

    off = client.get(reverse("events:search"), {"q": "jazz", "needs_first": "0"})
    off_content = off.content.decode()
    assert "come first." not in off_content
    assert "Show events that meet my access needs first" in off_content
    assert '<input type="hidden" name="needs_first" value="0">' in off_content
    assert off_content.index(_link(events["a"])) < off_content.index(_link(events["c"]))

    client.logout()
    anonymous = client.get(reverse("events:search"), {"q": "jazz"}).content.decode()
    assert "access needs" not in anonymous


def test_needs_first_adds_no_query_to_the_search_page(client, events):
    def statements(user) -> int:
        client.force_login(user)
        client.get(reverse("events:search"), {"q": "evening"})  # sessions and such, warmed
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("events:search"), {"q": "evening", "sort": "start"})
        assert response.status_code == 200
        return len(queries)

    assert statements(UserFactory(access_needs=["step_free"])) == statements(
        UserFactory(access_needs=[])
    )
