"""The inputs issue 3 lists, through the real URLs: a clear 4xx or a harmless page, never 500."""

import json

import pytest
from django.test import Client

from events.models import EventPost
from tests.conftest import sign_in
from tests.factories import EventCategoryFactory, EventPostFactory, OrganizerFactory, UserFactory

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


# --- Request bodies the API cannot use: 400 or 422 with a reason, never 500 ------------------

CSRF_TOKEN = "a" * 32


def api_client(user=None) -> Client:
    """A client that sends the CSRF token as a browser would, so the CSRF check runs for real
    (it reads the body of a form POST, which is where a broken multipart body used to fail)."""
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF_TOKEN)
    client.cookies["csrftoken"] = CSRF_TOKEN
    if user is not None:
        sign_in(client, user)
        # Logging in rotates the CSRF secret; a browser would read the new cookie.
        client.cookies["csrftoken"] = CSRF_TOKEN
    return client


def roles() -> dict:
    return {
        "anonymous": None,
        "student": UserFactory(),
        "organizer": OrganizerFactory(),
        "staff": UserFactory(is_staff=True),
    }


POST_PATHS = [
    "/api/v1/events",
    "/api/v1/events/{event}/publish",
    "/api/v1/events/{event}/cancel",
    "/api/v1/events/{event}/registration",
    "/api/v1/checkins",
]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"title=x"),  # no boundary
        ("multipart/form-data; boundary=x", b"--x\r\nnot a part"),
        ("multipart/form-data; boundary=", b""),
    ],
)
def test_a_body_that_cannot_be_parsed_is_a_400_with_a_reason(content_type, body):
    event = EventPostFactory()
    for role, user in roles().items():
        client = api_client(user)
        for path in POST_PATHS:
            response = client.generic(
                "POST", path.format(event=event.pk), body, content_type=content_type
            )
            # Endpoints that take no body may ignore it (registering answers 201).
            assert response.status_code < 500, (role, path)
            if response.status_code < 400:
                continue
            error = response.json()["error"]
            assert error["message"], (role, path)
            if response.status_code == 400:
                assert error["code"] == "bad_request"
                assert "could not be read" in error["message"]


def _event_body(**fields) -> str:
    category = EventCategoryFactory(slug="talks", name="Talks")
    body = {
        "title": "Poetry night",
        "category": category.slug,
        "starts_at": "2031-03-01T19:00:00-06:00",
        "ends_at": "2031-03-01T21:00:00-06:00",
        "location_name": "Olin Library",
        **fields,
    }
    return json.dumps(body)


@pytest.mark.parametrize("field", ["title", "category", "location_name", "address", "description"])
def test_nul_characters_in_an_event_are_422_naming_the_field(field):
    client = api_client(OrganizerFactory())
    response = client.post("/api/v1/events", _event_body(**{field: "a\x00b"}), "application/json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert any("NUL" in message for message in error["fields"][field])
    assert not EventPost.objects.filter(location_name="Olin Library").exists()


def test_nul_characters_in_patch_cancel_and_check_in_are_422():
    organizer = OrganizerFactory()
    event = EventPostFactory(organizer=organizer)
    client = api_client(organizer)
    for path, body in [
        (f"/api/v1/events/{event.pk}", {"title": "\x00"}),
        (f"/api/v1/events/{event.pk}/cancel", {"reason": "rain\x00"}),
        ("/api/v1/checkins", {"token": "\x00"}),
    ]:
        method = client.patch if path.endswith(str(event.pk)) else client.post
        response = method(path, json.dumps(body), "application/json")
        assert response.status_code == 422, path
        assert "NUL" in str(response.json()["error"]["fields"])
    event.refresh_from_db()
    assert event.status == EventPost.Status.PUBLISHED


@pytest.mark.parametrize("capacity", [0, 100_001, 2**31 - 1, 2**31, 2**63, 2**64, -(2**63)])
def test_capacities_out_of_range_are_422(capacity):
    organizer = OrganizerFactory()
    event = EventPostFactory(organizer=organizer)
    client = api_client(organizer)
    events_before = EventPost.objects.count()
    created = client.post("/api/v1/events", _event_body(capacity=capacity), "application/json")
    patched = client.patch(
        f"/api/v1/events/{event.pk}", json.dumps({"capacity": capacity}), "application/json"
    )
    for response in (created, patched):
        assert response.status_code == 422
        assert "capacity" in response.json()["error"]["fields"]
    assert EventPost.objects.count() == events_before
    event.refresh_from_db()
    assert event.capacity == 50


@pytest.mark.parametrize("field", ["title", "location_name", "address"])
@pytest.mark.parametrize("text", ["Jazz\rnight", "Jazz\nnight", "Jazz\u2028night", "Jazz\x0bnight"])
def test_one_line_event_fields_refuse_line_breaks(field, text):
    # Titles and places go into e-mail subjects and calendar lines, which are one line each.
    client = api_client(OrganizerFactory())
    response = client.post("/api/v1/events", _event_body(**{field: text}), "application/json")
    assert response.status_code == 422
    assert "one line" in response.json()["error"]["fields"][field][0]
