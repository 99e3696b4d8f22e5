"""A student on a phone: browse, search, open an event, register, see it, cancel."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from core import outbox
from events.models import EventRegistration
from tests.factories import EventCategoryFactory, EventPostFactory, UserFactory

# The e-mails the journey triggers are run from the outbox here and go to the locmem outbox.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


def test_student_finds_registers_for_and_cancels_an_event(live_server, page):
    music = EventCategoryFactory(name="Music", slug="music")
    concert = EventPostFactory(
        title="Jazz Night at Holmes Lounge",
        description="The WashU Jazz Ensemble plays standards.\nFree coffee.",
        category=music,
        location_name="Holmes Lounge",
        capacity=30,
    )
    EventPostFactory.create_batch(3)
    student = UserFactory(email="bear@wustl.edu", display_name="Bear")

    page.goto(live_server.url)
    expect(page.get_by_role("heading", name="Upcoming events")).to_be_visible()
    expect(page.get_by_text("Jazz Night at Holmes Lounge")).to_be_visible()
    page.snap("home")

    page.get_by_label("Search events").fill("jazz")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search/\?q=jazz"))
    result = page.get_by_role("link", name=re.compile("Jazz Night"))
    expect(result).to_be_visible()
    expect(page.locator("mark").first).to_have_text(re.compile("jazz", re.IGNORECASE))
    page.snap("search")

    result.click()
    expect(page.get_by_role("heading", name="Jazz Night at Holmes Lounge")).to_be_visible()
    expect(page.get_by_text("30 spots left")).to_be_visible()
    page.snap("event")

    page.get_by_role("link", name="Log in to register").click()
    page.get_by_label(re.compile("E-mail|Email", re.IGNORECASE)).fill("bear@wustl.edu")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name=re.compile("Sign In|Log in", re.IGNORECASE)).click()
    expect(page.get_by_role("heading", name="Jazz Night at Holmes Lounge")).to_be_visible()

    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("You're registered. See you there!")).to_be_visible()
    expect(page.get_by_text("29 spots left")).to_be_visible()
    page.snap("registered")
    assert EventRegistration.objects.get(event=concert, user=student).status == "confirmed"
    outbox.run_due()  # the worker sends the confirmation a moment later

    page.get_by_role("link", name="My events").click()
    card = page.locator(".card", has_text="Jazz Night at Holmes Lounge")
    expect(card.get_by_text("Registered")).to_be_visible()
    page.snap("my-events")

    card.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Your registration is cancelled.")).to_be_visible()
    expect(page.get_by_text("Nothing yet.")).to_be_visible()
    page.snap("cancelled")
    assert EventRegistration.objects.get(event=concert, user=student).status == "cancelled"
    assert [message.to for message in mail.outbox] == [["bear@wustl.edu"]]
