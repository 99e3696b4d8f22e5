"""Accessibility attributes of events and the needs students save (events.access)."""

import pytest
from django.urls import reverse

from events import recommendations
from events.access import EXPLANATIONS, AccessFeature
from tests.factories import EventPostFactory, OrganizerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _event_form_data(event, **changes):
    data = {
        "title": event.title,
        "category": event.category_id,
        "starts_at": event.starts_at.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": event.ends_at.strftime("%Y-%m-%dT%H:%M"),
        "location_name": event.location_name,
        "capacity": event.capacity or "",
        "no_show_grace_minutes": 10,
        "visibility": "public",
        "mode": "in_person",
        "guests_max": 0,
    }
    data.update(changes)
    return data


def test_event_form_explains_each_attribute(client):
    organizer = OrganizerFactory()
    client.force_login(organizer)
    content = client.get(reverse("events:create")).content.decode()
    assert "<legend>Accessibility</legend>" in content
    for value in AccessFeature.values:
        assert f'value="{value}"' in content
        assert str(EXPLANATIONS[value]).split(":")[0][:40] in content
    assert "access contact" in content.lower()


def test_organizer_saves_attributes_and_food_needs_its_allergens(client):
    event = EventPostFactory(status="draft")
    client.force_login(event.organizer)
    url = reverse("events:edit", args=[event.pk])

    refused = client.post(url, _event_form_data(event, access_features=["food"], allergens=""))
    assert refused.status_code == 200
    assert "List the allergens" in refused.content.decode()

    saved = client.post(
        url,
        _event_form_data(
            event,
            access_features=["captions", "step_free", "food"],
            allergens="pizza: wheat, milk",
            access_contact="access@wustl.edu, a week ahead",
        ),
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    event.refresh_from_db()
    # Stored in the list's order, once each.
    assert event.access_features == ["step_free", "captions", "food"]
    assert event.allergens == "pizza: wheat, milk"


def test_attributes_on_events_of_others_are_forbidden(client):
    event = EventPostFactory(access_features=[])
    intruder = OrganizerFactory()
    client.force_login(intruder)
    response = client.post(
        reverse("events:edit", args=[event.pk]),
        _event_form_data(event, access_features=["step_free"]),
    )
    assert response.status_code == 403
    api = client.patch(
        f"/api/v1/events/{event.pk}",
        {"access_features": ["step_free"]},
        content_type="application/json",
    )
    assert api.status_code == 403
    event.refresh_from_db()
    assert event.access_features == []


def test_api_sets_shows_and_validates_attributes(client):
    event = EventPostFactory(status="draft")
    client.force_login(event.organizer)
    url = f"/api/v1/events/{event.pk}"

    bad = client.patch(url, {"access_features": ["jetpack"]}, content_type="application/json")
    assert bad.status_code == 422
    no_allergens = client.patch(url, {"access_features": ["food"]}, content_type="application/json")
    assert no_allergens.status_code == 422
    assert "allergens" in no_allergens.json()["error"]["fields"]

    ok = client.patch(
        url,
        {"access_features": ["quiet", "asl"], "access_contact": "ada@wustl.edu"},
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json()["access_features"] == ["asl", "quiet"]
    assert ok.json()["access_contact"] == "ada@wustl.edu"


def test_search_page_and_api_filter_by_attributes_and_cards_show_them(client):
    step_free = EventPostFactory(title="Ramp talk", access_features=["step_free", "captions"])
    EventPostFactory(title="Stairs talk", access_features=["captions"])

    api = client.get("/api/v1/events", {"access": ["step_free", "captions"]}).json()
    assert [hit["id"] for hit in api["results"]] == [step_free.pk]
    assert api["results"][0]["access_features"] == ["step_free", "captions"]
    assert client.get("/api/v1/events", {"access": "jetpack"}).status_code == 422

    page = client.get(reverse("events:search"), {"access": "step_free"})
    content = page.content.decode()
    assert "Ramp talk" in content
    assert "Stairs talk" not in content
    assert '<ul class="access-badges" aria-label="Accessibility">' in content
    assert "Step-free access</li>" in content
    assert client.get(reverse("events:search"), {"access": "jetpack"}).status_code == 400

    home = client.get("/").content.decode()
    assert "Captioning</li>" in home


def test_saved_needs_filter_search_and_put_matching_picks_first(client):
    student = UserFactory()
    client.force_login(student)
    response = client.post(
        reverse("users:account"),
        {
            "display_name": "Ada",
            "leaderboard_visibility": "pseudonym",
            "pseudonym": "Owl",
            "email_reminders": "on",
            "access_needs": ["step_free"],
        },
    )
    assert response.status_code == 302
    student.refresh_from_db()
    assert student.access_needs == ["step_free"]

    EventPostFactory(title="Upstairs", access_features=[])
    level = EventPostFactory(title="Level entry", access_features=["step_free"])
    search = client.get(reverse("events:search")).content.decode()
    assert "Only events that meet my access needs" in search
    assert "?access=step_free" in search

    picks = recommendations.recommendations_for(user=student)
    assert picks[0].event == level
    assert picks[0].meets_access_needs

    api = client.put(
        "/api/v1/me/access-needs", {"access_needs": ["asl"]}, content_type="application/json"
    )
    assert api.json() == {"access_needs": ["asl"]}
    assert client.get("/api/v1/me").json()["access_needs"] == ["asl"]
    bad = client.put(
        "/api/v1/me/access-needs", {"access_needs": ["x"]}, content_type="application/json"
    )
    assert bad.status_code == 422
