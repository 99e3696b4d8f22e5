"""Online and hybrid events: the join link reaches confirmed registrants and nobody else."""

import pytest
from django.core import mail
from django.urls import reverse

from events import services
from events.models import EventPost
from tests.factories import EventPostFactory, OrganizerFactory, UserFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"
JOIN = "https://wustl.zoom.us/j/123456789?pwd=secret"


def test_the_join_link_only_reaches_confirmed_registrants(client, side_effects):
    event = EventPostFactory(
        title="Remote study hall", mode=EventPost.Mode.HYBRID, join_url=JOIN, capacity=1
    )
    confirmed, waiting = UserFactory.create_batch(2)
    with side_effects(execute=True):
        services.registration_create(event_id=event.pk, user=confirmed)
        services.registration_create(event_id=event.pk, user=waiting)

    # Public: the page, the .ics, the API, search and the list pages never carry it.
    public = [
        client.get(event.get_absolute_url()),
        client.get(reverse("events:calendar", args=[event.pk])),
        client.get(f"{API}/events/{event.pk}"),
        client.get(f"{API}/events", {"q": "remote"}),
        client.get(reverse("events:search"), {"q": "remote"}),
        client.get(reverse("events:list")),
    ]
    client.force_login(waiting)
    public += [
        client.get(event.get_absolute_url()),
        client.get(reverse("events:calendar", args=[event.pk])),
        client.get(f"{API}/events/{event.pk}"),
        client.get(f"{API}/me/registrations"),
    ]
    assert all(response.status_code == 200 for response in public)
    assert not [r.request["PATH_INFO"] for r in public if b"zoom.us" in r.content]
    assert "Remote study hall" in public[3].content.decode()

    # The confirmed student: the page, their .ics, the API, the feed and the e-mail.
    client.force_login(confirmed)
    assert JOIN in client.get(event.get_absolute_url()).content.decode()
    assert b"zoom.us" in client.get(reverse("events:calendar", args=[event.pk])).content
    assert client.get(f"{API}/events/{event.pk}").json()["join_url"] == JOIN
    assert client.get(f"{API}/me/registrations").json()[0]["join_url"] == JOIN
    confirmed.calendar_token_rotate()
    feed = client.get(reverse("events:calendar-feed", args=[confirmed.calendar_token]))
    assert b"zoom.us" in feed.content
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert JOIN in by_recipient[confirmed.email].body
    assert "zoom.us" in str(by_recipient[confirmed.email].attachments[0][1])
    assert "zoom.us" not in by_recipient[waiting.email].body


def test_join_links_are_checked_and_search_filters_online_and_drop_in(client):
    organizer = OrganizerFactory()
    client.force_login(organizer)
    base = {
        "title": "Coding club",
        "category": EventPostFactory().category.slug,
        "starts_at": "2031-03-10T18:00:00-05:00",
        "ends_at": "2031-03-10T20:00:00-05:00",
        "location_name": "Online",
    }
    for extra, field in (
        ({"join_url": JOIN}, "join_url"),
        ({"mode": "online", "join_url": "http://example.com/x"}, "join_url"),
    ):
        response = client.post(f"{API}/events", {**base, **extra}, content_type="application/json")
        assert response.status_code == 422
        assert field in response.json()["error"]["fields"]
    response = client.post(
        f"{API}/events",
        {**base, "mode": "online", "join_url": JOIN},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["join_url"]) == (201, JOIN)
    assert EventPost.objects.filter(title="Coding club").count() == 1

    EventPostFactory(title="Trivia online", mode=EventPost.Mode.ONLINE)
    EventPostFactory(title="Trivia hybrid", mode=EventPost.Mode.HYBRID)
    EventPostFactory(title="Trivia hall")
    EventPostFactory(title="Trivia drop-in", registration_required=False)

    def titles(**params) -> set[str]:
        results = client.get(f"{API}/events", {"q": "trivia", **params}).json()["results"]
        return {event["title"] for event in results}

    assert titles(attendance="online") == {"Trivia online", "Trivia hybrid"}
    assert titles(attendance="in_person") == {"Trivia hybrid", "Trivia hall", "Trivia drop-in"}
    assert titles(drop_in="1") == {"Trivia drop-in"}
    assert client.get(f"{API}/events", {"attendance": "moon"}).status_code == 422
    page = client.get(reverse("events:search"), {"q": "trivia", "attendance": "online"})
    assert {event.title for event in page.context["results"].events} == {
        "Trivia online",
        "Trivia hybrid",
    }
