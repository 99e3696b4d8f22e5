"""Events an organization hosts: moving an event in, the officers' dashboard, the API."""

import pytest
from django.urls import reverse

from events import services
from events.models import EventPost
from orgs.models import Officer, OrgActivity
from tests.conftest import sign_in
from tests.factories import (
    EventPostFactory,
    OfficerFactory,
    OrganizationFactory,
    OrganizerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_organizer_moves_their_event_to_their_club_and_it_survives_their_graduation(client):
    club = OrganizationFactory(slug="chess")
    owner = OrganizerFactory()
    OfficerFactory(organization=club, user=owner, role=Officer.Role.OFFICER)
    event = EventPostFactory(organizer=owner)

    services.event_update(event_id=event.pk, by=owner, organization=club)
    assert OrgActivity.objects.get(event=event).action == "event_moved_in"

    # The owner graduates: their role ends, the club's president runs the event.
    Officer.objects.filter(user=owner).delete()
    president = OfficerFactory(organization=club).user
    sign_in(client, owner)
    assert client.get(reverse("events:manage", args=[event.pk])).status_code == 403
    sign_in(client, president)
    assert client.get(reverse("events:manage", args=[event.pk])).status_code == 200
    dashboard = client.get(reverse("events:organize"))  # no organizer role needed
    assert event.title in dashboard.content.decode()


def test_moving_an_event_to_a_club_one_does_not_run_is_refused():
    owner = OrganizerFactory()
    event = EventPostFactory(organizer=owner)
    with pytest.raises(services.ActionForbidden, match="officers"):
        services.event_update(event_id=event.pk, by=owner, organization=OrganizationFactory())
    assert EventPost.objects.get(pk=event.pk).organization is None


def test_api_creates_an_event_for_a_club(client):
    club = OrganizationFactory(slug="chess")
    manager = OfficerFactory(organization=club, role=Officer.Role.EVENT_MANAGER).user
    sign_in(client, manager)
    body = {
        "title": "Simul",
        "category": EventPostFactory().category.slug,
        "starts_at": "2031-05-01T18:00:00-05:00",
        "ends_at": "2031-05-01T20:00:00-05:00",
        "location_name": "DUC",
        "organization": "chess",
        "visibility": "members",
    }
    created = client.post("/api/v1/events", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert (created.json()["organization_id"], created.json()["visibility"]) == (club.pk, "members")
    unknown = client.post(
        "/api/v1/events", {**body, "organization": "nope"}, content_type="application/json"
    )
    assert unknown.json()["error"]["fields"] == {"organization": ["Unknown organization."]}
    sign_in(client, UserFactory())
    refused = client.post("/api/v1/events", body, content_type="application/json")
    assert refused.status_code == 403
    assert "officers" in refused.json()["error"]["message"]


def test_an_event_manager_creates_a_weekly_series_for_the_club(client):
    """Organizations and series together: the club hosts every occurrence, and its event
    manager needs no organizer role of their own."""
    from tests.events.test_organizer import form_data

    club = OrganizationFactory(slug="chess")
    manager = OfficerFactory(organization=club, role=Officer.Role.EVENT_MANAGER).user
    sign_in(client, manager)
    data = form_data(
        starts_at="2031-03-04T18:00",
        ends_at="2031-03-04T20:00",
        repeat="weekly",
        weekdays=["1"],
        repeat_until="2031-03-18",
        organization=str(club.pk),
        visibility="members",
    )
    response = client.post(reverse("events:create"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    events = EventPost.objects.order_by("starts_at")
    assert events.count() == 3
    assert {(event.organization_id, event.visibility) for event in events} == {(club.pk, "members")}
