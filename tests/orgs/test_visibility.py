"""Visibility per event: members-only, school-only and unlisted events never leak into
listings (search, home, suggestions, the API, feeds, the sitemap), and their pages say who
may see them."""

import pytest
from django.urls import reverse

from events.models import EventPost
from tests.conftest import sign_in
from tests.factories import (
    EventPostFactory,
    MembershipFactory,
    OfficerFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
Visibility = EventPost.Visibility


@pytest.fixture
def events():
    club = OrganizationFactory(name="Chess Club", slug="chess")
    officer = OfficerFactory(organization=club).user

    def make(title: str, visibility: str) -> EventPost:
        return EventPostFactory(
            title=title, organization=club, organizer=officer, visibility=visibility
        )

    return {
        "club": club,
        "public": make("Zugzwang public", Visibility.PUBLIC),
        "school": make("Zugzwang school", Visibility.SCHOOL),
        "members": make("Zugzwang members", Visibility.MEMBERS),
        "unlisted": make("Zugzwang unlisted", Visibility.UNLISTED),
    }


def _listed_titles(client, events) -> dict[str, set[str]]:
    shown = {key: event for key, event in events.items() if key != "club"}

    def found(content: bytes) -> set[str]:
        # By title, or by link where the title is highlighted (search).
        return {
            event.title
            for event in shown.values()
            if event.title.encode() in content
            or f'href="{event.get_absolute_url()}"'.encode() in content
        }

    api = client.get("/api/v1/events", {"q": "zugzwang"}).json()
    org_api = client.get("/api/v1/orgs/chess").json()
    return {
        "search": found(client.get(reverse("events:search"), {"q": "zugzwang"}).content),
        "home": found(client.get(reverse("events:list")).content),
        "suggest": set(client.get(reverse("events:suggest"), {"q": "zugz"}).json()["suggestions"]),
        "api": {event["title"] for event in api["results"]},
        "org_page": found(client.get(reverse("orgs:detail", args=["chess"])).content),
        "org_api": {event["title"] for event in org_api["upcoming_events"]},
        "org_feed": found(client.get(reverse("orgs:calendar", args=["chess"])).content),
    }


def test_anonymous_visitors_see_only_public_events_listed(client, events):
    listed = _listed_titles(client, events)
    sitemap = client.get(reverse("events:sitemap")).content.decode()

    assert all(titles == {"Zugzwang public"} for titles in listed.values()), listed
    assert events["public"].get_absolute_url() in sitemap
    for key in ("school", "members", "unlisted"):
        assert events[key].get_absolute_url() not in sitemap


def test_students_also_see_school_events_and_members_their_members_events(client, events):
    student = UserFactory()
    sign_in(client, student)
    listed = _listed_titles(client, events)
    assert listed["search"] == listed["api"] == {"Zugzwang public", "Zugzwang school"}
    assert listed["org_page"] == {"Zugzwang public", "Zugzwang school"}

    MembershipFactory(organization=events["club"], user=student)
    listed = _listed_titles(client, events)
    # Members find members-only events on the organization's page, never in search.
    assert listed["org_page"] == {"Zugzwang public", "Zugzwang school", "Zugzwang members"}
    assert "Zugzwang members" not in listed["search"] | listed["api"] | listed["home"]
    assert "Zugzwang unlisted" not in set().union(*listed.values())


def test_members_only_event_page_says_why_and_registration_is_refused(client, events):
    members_event = events["members"]
    assert client.get(members_event.get_absolute_url()).status_code == 302  # log in first
    assert client.get(f"/api/v1/events/{members_event.pk}").status_code == 401
    assert client.get(reverse("events:calendar", args=[members_event.pk])).status_code == 404

    student = UserFactory()
    sign_in(client, student)
    page = client.get(members_event.get_absolute_url())
    assert page.status_code == 403
    assert b"members of Chess Club only" in page.content
    assert client.get(f"/api/v1/events/{members_event.pk}").json()["error"]["code"] == "forbidden"
    client.post(reverse("events:register", args=[members_event.pk]))
    assert not members_event.registrations.exists()

    MembershipFactory(organization=events["club"], user=student)
    assert client.get(members_event.get_absolute_url()).status_code == 200
    client.post(reverse("events:register", args=[members_event.pk]))
    assert members_event.registrations.filter(user=student).exists()


def test_unlisted_event_opens_by_its_link_for_anyone(client, events):
    assert client.get(events["unlisted"].get_absolute_url()).status_code == 200
    assert client.get(f"/api/v1/events/{events['unlisted'].pk}").status_code == 200


def test_members_only_needs_a_host(client):
    organizer = OfficerFactory().user
    organizer.is_organizer = True
    organizer.save()
    sign_in(client, organizer)
    response = client.post(
        reverse("events:create"),
        {
            "title": "Secret",
            "category": EventPostFactory().category_id,
            "starts_at": "2031-05-01T18:00",
            "ends_at": "2031-05-01T20:00",
            "location_name": "DUC",
            "visibility": "members",
        },
    )
    assert response.status_code == 200
    assert b"Members-only events need a hosting organization" in response.content
    assert not EventPost.objects.filter(title="Secret").exists()


def test_the_redis_suggestion_index_holds_listed_titles_only(client, events):
    from django.utils import timezone

    from events.search.prefix_index import prefix_index_rebuild, prefix_index_suggest

    prefix_index_rebuild()
    # Answered from Redis (None would mean "ask PostgreSQL"), and only the public title.
    assert prefix_index_suggest(["zugz"], limit=8, now=timezone.now()) == ["Zugzwang public"]
    suggestions = client.get(reverse("events:suggest"), {"q": "zugz"}).json()["suggestions"]
    assert suggestions == ["Zugzwang public"]
