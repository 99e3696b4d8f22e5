import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import EventRegistration
from events.selectors import browse_window
from tests.factories import (
    EventCategoryFactory,
    EventPostFactory,
    EventRegistrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
CENTRAL = ZoneInfo("America/Chicago")


def central(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CENTRAL)


@pytest.mark.parametrize(
    ("now", "when", "expected"),
    [
        # Wednesday morning.
        (central(2026, 12, 2, 10), "today", (central(2026, 12, 2, 10), central(2026, 12, 3))),
        (central(2026, 12, 2, 10), "week", (central(2026, 12, 2, 10), central(2026, 12, 7))),
        (central(2026, 12, 2, 10), "weekend", (central(2026, 12, 4, 17), central(2026, 12, 7))),
        # Saturday afternoon: what is left of this weekend.
        (central(2026, 12, 5, 15), "weekend", (central(2026, 12, 5, 15), central(2026, 12, 7))),
        # Sunday: this week is the rest of Sunday.
        (central(2026, 12, 6, 9), "week", (central(2026, 12, 6, 9), central(2026, 12, 7))),
        # Across the end of daylight saving time, midnight is still midnight in St. Louis.
        (central(2026, 10, 31, 12), "today", (central(2026, 10, 31, 12), central(2026, 11, 1))),
        (central(2026, 11, 1, 12), "today", (central(2026, 11, 1, 12), central(2026, 11, 2))),
    ],
)
def test_quick_filter_windows_are_in_central_time(now, when, expected):
    start, end = browse_window(when=when, now=now)
    assert (start, end) == expected
    assert end.utcoffset() == expected[1].utcoffset()


def test_today_filter_shows_only_todays_events(client):
    now = timezone.localtime()
    tonight = now.replace(hour=23, minute=0, second=0, microsecond=0)
    if tonight <= now + dt.timedelta(minutes=5):
        pytest.skip("Too close to midnight in St. Louis for a 'today' event to start later today.")
    today = EventPostFactory(
        title="Tonight", starts_at=tonight, ends_at=tonight + dt.timedelta(minutes=30)
    )
    EventPostFactory(title="Next week", starts_at=now + dt.timedelta(days=8))
    response = client.get("/", {"when": "today"})
    assert list(response.context["events"]) == [today]


def test_category_filter_and_unknown_values_do_not_break_the_page(client):
    arts = EventCategoryFactory(slug="arts", name="Arts")
    concert = EventPostFactory(category=arts)
    EventPostFactory()
    assert list(client.get("/", {"category": "arts"}).context["events"]) == [concert]
    assert client.get("/", {"category": "no-such-thing"}).status_code == 200
    assert client.get("/", {"when": "someday"}).status_code == 200


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999", "1e9", ""])
def test_odd_page_numbers_show_a_page_not_an_error(client, page):
    EventPostFactory.create_batch(3)
    assert client.get("/", {"page": page}).status_code == 200


def test_event_list_query_count_is_fixed_whatever_the_page_size(
    client, django_assert_max_num_queries
):
    EventPostFactory.create_batch(20)
    with django_assert_max_num_queries(5):
        client.get("/")


@pytest.fixture
def no_page_cache(settings):
    # The card fragment cache is what these tests check; the whole-page cache in front of it
    # keeps anonymous pages for 5 minutes on purpose (tests/eren/test_caching.py).
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
    # So is the shared home list around the cards (30 s; tests/core/test_signed_in_pages.py).
    settings.SHARED_FRAGMENT_CACHE_SECONDS = 0


@pytest.mark.usefixtures("no_page_cache")
def test_event_card_cache_shows_a_new_title_at_once(client):
    event = EventPostFactory(title="Old title")
    assert "Old title" in client.get("/").content.decode()
    event.title = "New title"
    event.save()
    content = client.get("/").content.decode()
    assert "New title" in content
    assert "Old title" not in content


@pytest.mark.usefixtures("no_page_cache")
def test_event_card_cache_shows_seats_taken_at_once(client, django_user_model):
    event = EventPostFactory(capacity=2)
    assert "2 spots left" in client.get("/").content.decode()
    EventRegistrationFactory(event=event)
    type(event).objects.filter(pk=event.pk).update(seats_taken=1)
    assert "1 spot left" in client.get("/").content.decode()


def detail(client, event):
    return client.get(event.get_absolute_url()).content.decode()


def test_detail_invites_anonymous_visitors_to_log_in(client):
    assert "Log in to register" in detail(client, EventPostFactory())


def test_detail_offers_register_then_cancel(client, django_user_model):
    student = UserFactory(email="s@wustl.edu")
    client.force_login(student)
    event = EventPostFactory(capacity=5)
    assert ">Register<" in detail(client, event)
    response = client.post(reverse("events:register", args=[event.pk]), follow=True)
    content = response.content.decode()
    assert "You&#x27;re registered" in content
    assert "Cancel my registration" in content
    response = client.post(reverse("events:cancel", args=[event.pk]), follow=True)
    assert "Your registration is cancelled." in response.content.decode()
    assert ">Register<" in response.content.decode()


def test_full_event_offers_the_waitlist_and_shows_the_position(client, django_user_model):
    event = EventPostFactory(capacity=1)
    EventRegistrationFactory(event=event, status="confirmed")
    type(event).objects.filter(pk=event.pk).update(seats_taken=1)
    student = UserFactory(email="s@wustl.edu")
    client.force_login(student)
    assert "Join the waitlist" in detail(client, event)
    client.post(reverse("events:register", args=[event.pk]))
    content = detail(client, event)
    assert "on the waitlist: number 1" in content
    assert "Leave the waitlist" in content


def test_double_submit_registers_once(client, django_user_model):
    student = UserFactory(email="s@wustl.edu")
    client.force_login(student)
    event = EventPostFactory()
    for _ in range(2):
        assert client.post(reverse("events:register", args=[event.pk])).status_code == 302
    assert EventRegistration.objects.filter(event=event, user=student).count() == 1
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_registering_requires_login_and_post(client):
    event = EventPostFactory()
    response = client.post(reverse("events:register", args=[event.pk]))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert client.get(reverse("events:register", args=[event.pk])).status_code == 405


@pytest.mark.parametrize(
    ("event_kwargs", "message"),
    [
        ({"status": "cancelled", "cancellation_reason": "Rain"}, "cancelled"),
        (
            {
                "starts_at": timezone.now() - dt.timedelta(hours=1),
                "ends_at": timezone.now() + dt.timedelta(hours=1),
            },
            "started",
        ),
    ],
)
def test_closed_events_refuse_with_a_message(client, django_user_model, event_kwargs, message):
    student = UserFactory(email="s@wustl.edu")
    client.force_login(student)
    event = EventPostFactory(**event_kwargs)
    response = client.post(reverse("events:register", args=[event.pk]), follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not EventRegistration.objects.filter(event=event).exists()


def test_registering_for_missing_or_draft_events_is_404(client, django_user_model):
    client.force_login(UserFactory(email="s@wustl.edu"))
    draft = EventPostFactory(status="draft")
    assert client.post(reverse("events:register", args=[draft.pk])).status_code == 404
    assert client.post(reverse("events:register", args=[999999])).status_code == 404


def test_cancelling_without_a_registration_explains(client, django_user_model):
    client.force_login(UserFactory(email="s@wustl.edu"))
    event = EventPostFactory()
    response = client.post(reverse("events:cancel", args=[event.pk]), follow=True)
    assert response.status_code == 200
    assert "not registered" in response.content.decode()


def test_description_is_escaped_with_line_breaks_and_safe_links(client):
    event = EventPostFactory(
        description="<script>alert(1)</script>\nSign up at https://example.edu/form?a=1&b=2\n\n"
        'Click <a href="javascript:alert(1)">me</a>'
    )
    content = detail(client, event)
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content
    assert 'href="https://example.edu/form?a=1&amp;b=2"' in content
    assert 'rel="nofollow"' in content
    assert 'href="javascript:' not in content
    assert "<br>" in content


def test_detail_links_to_maps_and_calendar(client):
    event = EventPostFactory(latitude=38.6479, longitude=-90.3049)
    content = detail(client, event)
    assert "query=38.6479%2C-90.3049" in content
    assert reverse("events:calendar", args=[event.pk]) in content


def test_my_events_lists_upcoming_with_waitlist_positions_and_past(
    client, django_user_model, django_assert_max_num_queries
):
    student = UserFactory(email="s@wustl.edu")
    client.force_login(student)
    going = EventRegistrationFactory(user=student, event=EventPostFactory(title="Going"))
    full = EventPostFactory(title="Full one", capacity=1)
    EventRegistrationFactory(event=full, status="waitlisted")
    EventRegistrationFactory(user=student, event=full, status="waitlisted")
    past_event = EventPostFactory(
        title="Last month",
        starts_at=timezone.now() - dt.timedelta(days=30),
        ends_at=timezone.now() - dt.timedelta(days=30, hours=-2),
    )
    EventRegistrationFactory(user=student, event=past_event)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("events:mine"))
    assert [r.event.title for r in response.context["upcoming"]] == ["Going", "Full one"]
    assert [r.event.title for r in response.context["past"]] == ["Last month"]
    assert "Waitlist: number 2" in response.content.decode()
    assert going.event.title in response.content.decode()


def test_my_events_needs_login(client):
    response = client.get(reverse("events:mine"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
