"""Saved searches: saving from the search page, the live .ics feed, the daily e-mail."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from events import saved_search_views, services
from events.emails import saved_searches as alerts
from events.models import EmailDelivery, EventPost, SavedSearch
from events.services.saved_searches import feed_token_hash
from tests.factories import (
    EventCategoryFactory,
    EventPostFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _save(client, **query) -> tuple[SavedSearch, str]:
    """Save a search as the search page's form does; returns it and its feed URL (shown once)."""
    response = client.post(
        reverse("events:saved-search-create"), {"name": "Jazz nights", **query}, follow=True
    )
    assert response.status_code == 200
    saved = SavedSearch.objects.latest("pk")
    feed_url = response.context["new_feed_url"]
    assert feed_url
    assert feed_url in response.content.decode()
    return saved, feed_url.split("testserver", 1)[1]


def _titles_and_statuses(response) -> dict[str, str]:
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(event["SUMMARY"]): str(event["STATUS"]) for event in calendar.walk("VEVENT")}


def test_search_page_offers_to_save_and_the_feed_lists_matches(client):
    music = EventCategoryFactory(slug="music", name="Music")
    EventPostFactory(title="Jazz at the DUC", category=music)
    EventPostFactory(title="Jazz draft", category=music, status="draft")
    EventPostFactory(
        title="Jazz for members",
        category=music,
        visibility="members",
        organization=OrganizationFactory(),
    )
    EventPostFactory(title="Chess night", category=music)
    student = UserFactory()

    page = client.get(reverse("events:search"), {"q": "jazz", "category": "music"})
    assert "Log in" in page.content.decode()  # anonymous: no form, no CSRF token
    client.force_login(student)
    page = client.get(reverse("events:search"), {"q": "jazz", "category": "music"})
    assert 'action="/me/searches/save"' in page.content.decode()

    saved, feed_path = _save(client, q="jazz", category="music", page="2", sort="start")
    assert saved.query == {"q": ["jazz"], "category": ["music"]}  # paging is not kept
    assert saved.feed_token_hash == feed_token_hash(feed_path.rsplit("/", 1)[1][:-4])
    # The token is shown once: the list no longer holds it.
    assert feed_path not in client.get(reverse("events:saved-searches")).content.decode()

    client.logout()  # calendar apps cannot log in: the token is the key
    response = client.get(feed_path)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]
    assert _titles_and_statuses(response) == {"Jazz at the DUC": "CONFIRMED"}


def test_feed_shows_new_changed_and_cancelled_events(client, monkeypatch):
    monkeypatch.setattr(saved_search_views, "FEED_CACHE_SECONDS", 0)  # every request renders
    student = UserFactory()
    client.force_login(student)
    first = EventPostFactory(title="Jazz brunch")
    # Edited five minutes ago: the cancellation below is a later second, so a higher SEQUENCE.
    EventPost.objects.filter(pk=first.pk).update(
        updated_at=timezone.now() - dt.timedelta(minutes=5)
    )
    EventPostFactory.create_batch(2, title="Chess night")
    _, feed_path = _save(client, q="jazz")
    before = Calendar.from_ical(client.get(feed_path).content).walk("VEVENT")[0]

    EventPostFactory(title="Jazz supper")  # added
    services.event_cancel(event_id=first.pk, by=first.organizer, reason="The band is ill.")
    response = client.get(feed_path)
    assert _titles_and_statuses(response) == {
        "Jazz brunch": "CANCELLED",
        "Jazz supper": "CONFIRMED",
    }
    after = next(
        e
        for e in Calendar.from_ical(response.content).walk("VEVENT")
        if str(e["SUMMARY"]) == "Jazz brunch"
    )
    assert str(after["UID"]) == str(before["UID"])
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_guessed_rotated_and_revoked_tokens_are_404(client):
    student = UserFactory()
    client.force_login(student)
    EventPostFactory(title="Jazz brunch")
    saved, old_path = _save(client, q="jazz")

    assert client.get("/calendar/searches/guessed-token.ics").status_code == 404
    assert client.get("/calendar/searches/" + "x" * 300 + ".ics").status_code == 404

    response = client.post(reverse("events:saved-search-feed-rotate", args=[saved.pk]), follow=True)
    new_path = response.context["new_feed_url"].split("testserver", 1)[1]
    assert client.get(old_path).status_code == 404
    assert client.get(new_path).status_code == 200

    client.post(reverse("events:saved-search-feed-revoke", args=[saved.pk]))
    assert client.get(new_path).status_code == 404

    # Someone else's saved search cannot be touched: 404, not 403 (nothing to learn).
    client.force_login(UserFactory())
    for name in ("saved-search-feed-rotate", "saved-search-delete", "saved-search-email"):
        assert client.post(reverse(f"events:{name}", args=[saved.pk])).status_code == 404
    assert SavedSearch.objects.filter(pk=saved.pk).exists()


def test_bad_saved_searches_are_refused_with_a_reason(client):
    client.force_login(UserFactory())
    cases = [
        ({"name": "", "q": "jazz"}, "Give the search a name."),
        ({"name": "x"}, "Search for something"),
        ({"name": "x", "category": "no-such-category"}, "Unknown category"),
        ({"name": "x", "from": "2026-13-45"}, "is not a real date"),
    ]
    for data, message in cases:
        response = client.post(reverse("events:saved-search-create"), data, follow=True)
        assert response.status_code == 200
        assert message in response.content.decode(), data
    assert not SavedSearch.objects.exists()
    # Anonymous: to the login page, nothing saved.
    client.logout()
    response = client.post(reverse("events:saved-search-create"), {"name": "x", "q": "a"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_daily_email_tells_of_new_matches_once_a_day_and_unsubscribes(client, side_effects):
    student = UserFactory()
    client.force_login(student)
    EventPostFactory(title="Jazz brunch")
    _save(client, q="jazz", email_alerts="1")

    with side_effects(execute=True):
        alerts.saved_search_alerts_queue(now=timezone.now() - dt.timedelta(days=1))
    assert mail.outbox == []  # what matched when saved is not news

    EventPostFactory(title="Jazz supper")
    EventPostFactory(title="Jazz rehearsal", status="draft")
    with side_effects(execute=True):
        assert alerts.saved_search_alerts_queue() == 1
    EventPostFactory(title="Jazz late show")
    with side_effects(execute=True):
        alerts.saved_search_alerts_queue()  # the same day: the outbox key keeps one
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Jazz supper" in body
    assert "Jazz brunch" not in body
    assert "rehearsal" not in body
    assert "late show" not in body
    assert EmailDelivery.objects.get().kind == "saved_search"

    # The next day tells of the late show only; a day with nothing new sends nothing.
    saved = SavedSearch.objects.get()
    assert alerts.saved_search_alert_send(saved_search_id=saved.pk, day="2099-01-01")
    assert "Jazz late show" in mail.outbox[1].body
    assert "supper" not in mail.outbox[1].body
    assert not alerts.saved_search_alert_send(saved_search_id=saved.pk, day="2099-01-02")

    unsubscribe = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = "/" + unsubscribe.split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).status_code == 200  # GET only asks
    assert SavedSearch.objects.get().email_alerts
    assert client.post(path).status_code == 200
    assert not SavedSearch.objects.get().email_alerts
    assert client.post(reverse("events:saved-search-email-off", args=["forged"])).status_code == 400


def test_saved_search_pages_need_login_and_delete_works(client):
    assert client.get(reverse("events:saved-searches")).status_code == 302
    student = UserFactory()
    client.force_login(student)
    saved, feed_path = _save(client, q="jazz")
    page = client.get(reverse("events:saved-searches")).content.decode()
    assert "Jazz nights" in page
    assert saved.get_absolute_url().replace("&", "&amp;") in page
    client.post(reverse("events:saved-search-delete", args=[saved.pk]))
    assert not SavedSearch.objects.exists()
    assert client.get(feed_path).status_code == 404
