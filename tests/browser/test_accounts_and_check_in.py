"""On a phone: an organizer publishes an event, a new student signs up with a school address,
confirms it with the e-mailed code, registers and shows the ticket; the organizer checks
them in."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from events.models import EventPost, EventRegistration
from tests.factories import EventCategoryFactory, OrganizerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


def log_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label(re.compile("E-mail|Email", re.IGNORECASE)).fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("Sign In|Log in", re.IGNORECASE)).click()
    expect(page.get_by_role("link", name="Account")).to_be_visible()


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").first.click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def test_sign_up_register_and_get_checked_in(live_server, page):
    EventCategoryFactory(name="Games", slug="games")
    OrganizerFactory(email="dana@wustl.edu", display_name="Dana")
    base = live_server.url
    starts_at = timezone.localtime(timezone.now() + dt.timedelta(minutes=30))

    # The organizer creates the event and publishes it.
    log_in(page, base, "dana@wustl.edu", "correct-horse-battery")
    page.get_by_role("link", name="Organize").click()
    page.get_by_role("link", name="New event").click()
    page.get_by_label("Title").fill("Chess night")
    page.get_by_label("Category").select_option(label="Games")
    page.get_by_label("Starts (Central time)").fill(starts_at.strftime("%Y-%m-%dT%H:%M"))
    ends_at = starts_at + dt.timedelta(hours=2)
    page.get_by_label("Ends (Central time)").fill(ends_at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Place").fill("Olin Library")
    page.get_by_label("Capacity").fill("20")
    page.snap("organizer-new-event")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved as a draft")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published: students can find it")).to_be_visible()
    page.snap("organizer-published")
    event = EventPost.objects.get(title="Chess night")
    assert event.status == "published"
    log_out(page)

    # A new student: a non-school address is refused, the school one gets a code.
    page.goto(f"{base}/accounts/signup/")
    page.get_by_label(re.compile("^E-?mail", re.IGNORECASE)).fill("bear@wustl.edu.evil.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill("a-long-campus-passphrase")
    page.get_by_label(re.compile(r"Password \(again\)", re.IGNORECASE)).fill(
        "a-long-campus-passphrase"
    )
    page.get_by_role("button", name=re.compile("Sign Up", re.IGNORECASE)).click()
    expect(page.get_by_text("use your school address (@wustl.edu)")).to_be_visible()
    page.snap("signup-refused")
    page.get_by_label(re.compile("^E-?mail", re.IGNORECASE)).fill("bear@wustl.edu")
    page.get_by_label(re.compile(r"^Password:?$")).fill("a-long-campus-passphrase")
    page.get_by_label(re.compile(r"Password \(again\)", re.IGNORECASE)).fill(
        "a-long-campus-passphrase"
    )
    page.get_by_role("button", name=re.compile("Sign Up", re.IGNORECASE)).click()
    expect(page.get_by_role("heading", name=re.compile("Verification Code", re.I))).to_be_visible()
    page.snap("verification-sent")

    (message,) = [m for m in mail.outbox if m.to == ["bear@wustl.edu"]]
    code = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", message.body).group(0)
    page.get_by_placeholder("Code").fill(code)
    page.snap("confirm-email")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("link", name="Account")).to_be_visible()

    # Registers and opens the ticket.
    page.goto(base + event.get_absolute_url())
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("You're registered. See you there!")).to_be_visible()
    page.get_by_role("link", name="Show my ticket").click()
    expect(page.get_by_role("heading", name="Your ticket")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    page.snap("ticket")
    check_in_url = page.locator(".qr").get_attribute("data-url")
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_text("confirmed", exact=True)).to_be_visible()
    page.snap("account")
    log_out(page)

    # The organizer opens the QR link on their phone and checks the student in.
    log_in(page, base, "dana@wustl.edu", "correct-horse-battery")
    page.goto(check_in_url)
    expect(page.get_by_text("bear", exact=True)).to_be_visible()
    page.snap("check-in")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_text("Checked in.")).to_be_visible()
    page.snap("checked-in")
    registration = EventRegistration.objects.get(event=event, user__email="bear@wustl.edu")
    assert registration.checked_in_at is not None

    page.get_by_role("link", name="Roster").click()
    expect(page.get_by_text(re.compile("Checked in \\d"))).to_be_visible()
    page.snap("roster")
