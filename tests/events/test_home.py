import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import EventPostFactory

pytestmark = pytest.mark.django_db


def test_home_lists_upcoming_published_events_soonest_first(client):
    later = EventPostFactory(title="Later", starts_at=timezone.now() + dt.timedelta(days=5))
    sooner = EventPostFactory(title="Sooner", starts_at=timezone.now() + dt.timedelta(days=1))
    EventPostFactory(title="Secret draft", status="draft")
    EventPostFactory(
        title="Long gone",
        starts_at=timezone.now() - dt.timedelta(days=3),
        ends_at=timezone.now() - dt.timedelta(days=3, hours=-2),
    )
    response = client.get("/")
    assert response.status_code == 200
    assert list(response.context["events"]) == [sooner, later]
    assert b"Secret draft" not in response.content
    assert b"Long gone" not in response.content


def test_home_shows_spots_left_and_waitlist(client):
    EventPostFactory(title="Open", capacity=10, seats_taken=7)
    EventPostFactory(title="Full", capacity=5, seats_taken=5)
    content = client.get("/").content.decode()
    assert "3 spots left" in content
    assert "Full — waitlist" in content


def test_home_query_count_does_not_grow_with_the_page(client, django_assert_max_num_queries):
    EventPostFactory.create_batch(25)
    with django_assert_max_num_queries(3):
        client.get("/")


def test_unknown_event_is_404(client):
    assert client.get("/events/999999/").status_code == 404


def test_draft_event_is_404(client):
    draft = EventPostFactory(status="draft")
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_event_text_is_escaped(client):
    event = EventPostFactory(title="<script>alert(1)</script>", description="<b>bold</b>")
    content = client.get(event.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content
    assert "&lt;b&gt;bold&lt;/b&gt;" in content
