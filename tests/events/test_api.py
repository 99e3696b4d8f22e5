import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from events.models import EventRegistration
from tests.factories import (
    EventCategoryFactory,
    EventPostFactory,
    EventRegistrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def student_client(client):
    student = UserFactory()
    client.force_login(student)
    client.student = student
    return client


def test_categories_are_listed_by_name(client):
    EventCategoryFactory(name="Wellness", slug="wellness")
    EventCategoryFactory(name="Arts", slug="arts")
    response = client.get(f"{API}/categories")
    assert response.status_code == 200
    assert [c["slug"] for c in response.json()] == ["arts", "wellness"]


def test_event_detail(client):
    event = EventPostFactory(capacity=10, seats_taken=4)
    body = client.get(f"{API}/events/{event.pk}").json()
    assert body["id"] == event.pk
    assert body["seats_left"] == 6
    assert body["category"]["slug"] == event.category.slug
    assert body["url"].endswith(f"/events/{event.pk}/")


@pytest.mark.parametrize("path", ["/events/999999", "/events/abc"])
def test_missing_events_answer_in_the_error_shape(client, path):
    response = client.get(f"{API}{path}")
    assert response.status_code in {404, 422}
    assert_error(
        response, response.status_code, "not_found" if response.status_code == 404 else "invalid"
    )


def test_drafts_are_not_found(client):
    draft = EventPostFactory(status="draft")
    assert_error(client.get(f"{API}/events/{draft.pk}"), 404, "not_found")


def test_register_confirms_then_waitlists_with_position(student_client):
    event = EventPostFactory(capacity=1)
    EventRegistrationFactory(event=event)
    type(event).objects.filter(pk=event.pk).update(seats_taken=1)
    response = student_client.post(f"{API}/events/{event.pk}/registration")
    assert response.status_code == 201
    assert response.json()["status"] == "waitlisted"
    assert response.json()["waitlist_position"] == 1


def test_register_is_idempotent_and_cancel_frees_the_seat(student_client):
    event = EventPostFactory(capacity=3)
    first = student_client.post(f"{API}/events/{event.pk}/registration")
    second = student_client.post(f"{API}/events/{event.pk}/registration")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert first.json()["status"] == "confirmed"
    assert first.json()["waitlist_position"] is None

    response = student_client.delete(f"{API}/events/{event.pk}/registration")
    assert response.status_code == 204
    event.refresh_from_db()
    assert event.seats_taken == 0


def test_my_registrations(student_client, django_assert_max_num_queries):
    mine = EventRegistrationFactory(user=student_client.student)
    EventRegistrationFactory()
    with django_assert_max_num_queries(4):
        body = student_client.get(f"{API}/me/registrations").json()
    assert [r["event"]["id"] for r in body] == [mine.event_id]
    assert body[0]["status"] == "confirmed"


def test_anonymous_writes_are_401(client):
    event = EventPostFactory()
    assert_error(client.post(f"{API}/events/{event.pk}/registration"), 401, "not_authenticated")
    assert_error(client.get(f"{API}/me/registrations"), 401, "not_authenticated")


def test_session_writes_need_the_csrf_token():
    student = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(student)
    event = EventPostFactory()
    response = client.post(f"{API}/events/{event.pk}/registration")
    assert_error(response, 403, "forbidden")
    assert not EventRegistration.objects.exists()

    client.get("/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(f"{API}/events/{event.pk}/registration", headers={"X-CSRFToken": token})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("event_kwargs", "status", "code"),
    [
        ({"status": "cancelled", "cancellation_reason": "Rain"}, 409, "event_cancelled"),
        ({"status": "draft"}, 404, "not_found"),
        (
            {
                "starts_at": timezone.now() - dt.timedelta(days=2),
                "ends_at": timezone.now() - dt.timedelta(days=2, hours=-1),
            },
            409,
            "event_closed",
        ),
    ],
)
def test_registration_refusals_have_a_reason(student_client, event_kwargs, status, code):
    event = EventPostFactory(**event_kwargs)
    assert_error(student_client.post(f"{API}/events/{event.pk}/registration"), status, code)


def test_registration_for_a_missing_event_is_404(student_client):
    assert_error(student_client.post(f"{API}/events/999999/registration"), 404, "not_found")


def test_cancel_without_registration_is_404(student_client):
    event = EventPostFactory()
    assert_error(
        student_client.delete(f"{API}/events/{event.pk}/registration"), 404, "not_registered"
    )


def test_openapi_schema_and_docs(client):
    schema = client.get(f"{API}/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/events", "/api/v1/events/{event_id}/registration"} <= set(schema["paths"])
    assert client.get(f"{API}/docs").status_code == 200


def test_search_hits_mark_the_matches_as_segments(client):
    EventPostFactory(title="Jazz at Holmes", description="An evening of <b>jazz</b> standards.")
    (hit,) = client.get(f"{API}/events", {"q": "jazz"}).json()["results"]
    assert hit["headline_title"][0] == {"text": "Jazz", "match": True}
    assert "".join(piece["text"] for piece in hit["headline_title"]) == "Jazz at Holmes"
    assert any(piece["match"] for piece in hit["headline_description"])
    assert "\u2063" not in str(hit)  # the private markers never reach clients
    # Without a query there is nothing to highlight.
    (plain,) = client.get(f"{API}/events").json()["results"]
    assert plain["headline_title"] is None
