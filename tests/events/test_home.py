import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from events import selectors
from tests.factories import EventCategoryFactory, EventPostFactory

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
    # Categories, the page's count and rows, and the per-category counts (cold cache).
    with django_assert_max_num_queries(4):
        client.get("/")


def test_category_chips_count_upcoming_published_events_shared_for_a_minute(
    client, django_assert_num_queries
):
    talks = EventCategoryFactory(name="Talks", slug="talks")
    sports = EventCategoryFactory(name="Sports", slug="sports")
    EventPostFactory.create_batch(2, category=talks)
    EventPostFactory(category=talks, status="draft")
    EventPostFactory(
        category=sports,
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=2, hours=-1),
    )

    categories = {c.slug: c.upcoming_count for c in selectors.category_list_with_upcoming_counts()}
    assert categories == {"talks": 2, "sports": 0}
    content = client.get("/").content.decode()
    assert 'Talks <span class="count">2</span>' in content
    assert 'Sports <span class="count">0</span>' in content

    # The counts come from the cache until it expires: a new event shows within a minute.
    EventPostFactory(category=sports)
    with django_assert_num_queries(1):  # the categories themselves, not the counts
        cached = {c.slug: c.upcoming_count for c in selectors.category_list_with_upcoming_counts()}
    assert cached == {"talks": 2, "sports": 0}
    cache.delete(selectors.CATEGORY_COUNTS_CACHE_KEY)
    fresh = {c.slug: c.upcoming_count for c in selectors.category_list_with_upcoming_counts()}
    assert fresh == {"talks": 2, "sports": 1}


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
