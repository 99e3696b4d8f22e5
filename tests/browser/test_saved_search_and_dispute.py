"""On a phone: a student saves a search and subscribes to it, then disputes a missing entry,
which the organizer accepts; the student sees the points."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from escore.models import ScoreEntry
from tests.factories import (
    EventCategoryFactory,
    EventPostFactory,
    EventRegistrationFactory,
    OrganizerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _session_cookie(user, url: str) -> dict:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": url}


def test_student_saves_a_search_subscribes_and_disputes_a_missing_entry(live_server, page, browser):
    music = EventCategoryFactory(name="Music", slug="music")
    EventPostFactory(title="Jazz Night at Holmes Lounge", category=music)
    EventPostFactory(title="Chess Club Open Play")
    organizer = OrganizerFactory(display_name="Robin Organizer")
    yesterday = timezone.now() - dt.timedelta(days=1)
    jam = EventPostFactory(
        title="Jazz Jam Session",
        category=music,
        organizer=organizer,
        starts_at=yesterday,
        ends_at=yesterday + dt.timedelta(hours=2),
    )
    student = UserFactory(email="bear@wustl.edu", display_name="Bear")
    EventRegistrationFactory(event=jam, user=student)  # registered, never checked in

    # The student searches, saves the search and subscribes to its calendar link.
    page.context.add_cookies([_session_cookie(student, live_server.url)])
    student_page = page
    student_page.goto(f"{live_server.url}/search/?q=jazz")
    expect(student_page.get_by_role("link", name=re.compile("Jazz Night"))).to_be_visible()
    student_page.get_by_label("Name").fill("Jazz on campus")
    student_page.get_by_role("button", name="Save search and get a calendar link").click()
    expect(student_page.get_by_text("Saved “Jazz on campus”")).to_be_visible()
    feed_url = student_page.locator("input.feed-url").input_value()
    assert re.fullmatch(
        re.escape(live_server.url) + r"/calendar/searches/[\w-]{40,}\.ics", feed_url
    )
    page.snap("saved-search")
    feed = student_page.request.get(feed_url)
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    ics = feed.text()
    assert "SUMMARY:Jazz Night at Holmes Lounge" in ics
    assert "Chess" not in ics
    assert "Jazz Jam" not in ics  # over: upcoming events only

    # A missing entry: the student was at yesterday's jam but was not checked in.
    student_page.goto(f"{live_server.url}/me/escore/")
    student_page.get_by_label("I was at").select_option(value=str(jam.pk))
    student_page.get_by_label("Note for the organizer (optional)").fill("Second row, sax solo.")
    student_page.get_by_role("button", name="Dispute: I was there").click()
    expect(
        student_page.get_by_text("Your dispute about “Jazz Jam Session” is sent")
    ).to_be_visible()
    expect(student_page.locator(".dispute-status")).to_have_text("Waiting for a decision")
    page.snap("dispute-sent")

    # The organizer finds it from the dashboard and accepts it.
    organizer_context = browser.new_context(viewport={"width": 390, "height": 844})
    organizer_context.add_cookies([_session_cookie(organizer, live_server.url)])
    organizer_page = organizer_context.new_page()
    organizer_page.set_default_timeout(10_000)
    organizer_page.goto(f"{live_server.url}/organize/")
    organizer_page.get_by_role("link", name="Score disputes").click()
    expect(organizer_page.get_by_text("Second row, sax solo.")).to_be_visible()
    organizer_page.get_by_role("button", name="Accept: check in and credit").click()
    expect(organizer_page.get_by_text("Accepted: Bear is checked in and credited.")).to_be_visible()
    expect(organizer_page.get_by_text("No open disputes.")).to_be_visible()

    # The student sees the entry, with who decided.
    student_page.reload()
    expect(student_page.locator(".total")).to_have_text("15")
    expect(student_page.get_by_text("Dispute accepted by Robin Organizer")).to_be_visible()
    expect(student_page.locator(".dispute-status")).to_have_text("Accepted")
    page.snap("escore-after-dispute")
    assert ScoreEntry.objects.filter(user=student, event=jam, reason="attended").count() == 1
    organizer_context.close()
