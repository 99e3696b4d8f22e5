"""On phones: the organizer checks students in at the door (search, one tap, undo, a walk-in,
live counts), and students check themselves in with the rotating event code."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from events import check_in_codes, selectors, services
from events.models import EventPost, EventRegistration
from events.places import CAMPUS_PLACES
from tests.factories import EventPostFactory, OrganizerFactory, UserFactory

from .test_accounts_and_check_in import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]
PASSWORD = "correct-horse-battery"
OLIN = CAMPUS_PLACES["olin-library"]


def event_on_now(organizer, **fields) -> EventPost:
    starts_at = timezone.now() - dt.timedelta(minutes=5)
    return EventPostFactory(
        organizer=organizer,
        title="Chess night",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        **fields,
    )


def seat(event, user) -> EventRegistration:
    registration = EventRegistration.objects.create(
        event=event, user=user, status=EventRegistration.Status.CONFIRMED
    )
    EventPost.objects.filter(pk=event.pk).update(seats_taken=event.seats_taken + 1)
    event.seats_taken += 1
    return registration


def test_door_search_tap_undo_walk_in_and_live_counts(live_server, page):
    organizer = OrganizerFactory(email="dana@wustl.edu", display_name="Dana")
    event = event_on_now(organizer, capacity=3)
    seat(event, UserFactory(display_name="Bear Brookings"))
    ada = seat(event, UserFactory(display_name="Ada Lovelace"))
    UserFactory(email="walkin@wustl.edu", display_name="Wally Walkin")
    counts = page.locator(".live-counts")

    log_in(page, live_server.url, "dana@wustl.edu", PASSWORD)
    page.goto(f"{live_server.url}/organize/events/{event.pk}/door")
    expect(counts).to_contain_text("0 checked in")
    expect(counts).to_contain_text("2 confirmed of 3")

    # Results come while typing, without pressing Find.
    page.get_by_label("Name or school e-mail").press_sequentially("bea", delay=30)
    expect(page.locator("#door-results").get_by_text("Bear Brookings")).to_be_visible()
    expect(page.locator("#door-results").get_by_text("Ada Lovelace")).to_have_count(0)
    page.snap("search")
    page.locator("#door-results").get_by_role("button", name="Check in").click()
    expect(page.get_by_text("Bear Brookings is checked in.")).to_be_visible()
    expect(counts).to_contain_text("1 checked in")
    page.snap("checked-in")

    # A mistake: undo it from "Just checked in".
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("Check-in of Bear Brookings is undone.")).to_be_visible()
    expect(counts).to_contain_text("0 checked in")

    # A walk-in: their whole school address, one tap.
    page.get_by_label("Name or school e-mail").fill("walkin@wustl.edu")
    page.get_by_label("Name or school e-mail").press("Enter")
    page.get_by_role("button", name="Add walk-in: walkin@wustl.edu").click()
    expect(page.get_by_text("Wally Walkin is checked in.")).to_be_visible()
    expect(counts).to_contain_text("1 checked in")
    expect(counts).to_contain_text("3 confirmed of 3")
    page.snap("walk-in")

    # Another organizer's phone checks Ada in: the counts follow without a reload.
    page.evaluate("window.notReloaded = true")
    services.registration_check_in(registration_id=ada.pk, by=organizer)
    cache.delete(selectors.check_in_counts_key(event.pk))
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(counts).to_contain_text("2 checked in")
    assert page.evaluate("window.notReloaded") is True
    page.snap("live-counts")


def test_students_check_themselves_in_with_the_code_on_their_phones(
    live_server, browser, page, monkeypatch
):
    organizer = OrganizerFactory(email="dana@wustl.edu", display_name="Dana")
    event = event_on_now(
        organizer,
        capacity=10,
        latitude=OLIN.latitude,
        longitude=OLIN.longitude,
        check_in_radius_m=150,
    )
    bear = seat(event, UserFactory(email="bear@wustl.edu", display_name="Bear"))
    UserFactory(email="ada@wustl.edu", display_name="Ada")

    # The screen at the door (a laptop on the organizer's account).
    screen_context = browser.new_context(viewport={"width": 1024, "height": 768})
    screen = screen_context.new_page()
    screen.clock.install()
    log_in(screen, live_server.url, "dana@wustl.edu", PASSWORD)
    screen.goto(f"{live_server.url}/organize/events/{event.pk}/code")
    code_box = screen.locator("#check-in-code")
    first_code = code_box.inner_text()
    assert re.fullmatch(r"[0-9A-Z]{6}", first_code)
    qr_url = screen.locator("#check-in-qr").get_attribute("data-url")

    # Bear, registered, scans the QR code; the phone is in the room.
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": OLIN.latitude, "longitude": OLIN.longitude})
    log_in(page, live_server.url, "bear@wustl.edu", PASSWORD)
    page.goto(qr_url)
    expect(page.get_by_label("Code on the screen at the door")).to_have_value(first_code)
    page.snap("scanned")
    page.get_by_role("button", name="Check me in").click()
    expect(page.get_by_text("You're checked in.")).to_be_visible()
    page.snap("checked-in")
    bear.refresh_from_db()
    assert bear.checked_in_at is not None

    # Thirty seconds later the screen shows a new code (the server's clock moved on too).
    shift = check_in_codes._window
    monkeypatch.setattr(check_in_codes, "_window", lambda moment: shift(moment) + 1)
    screen.clock.fast_forward("00:31")
    expect(code_box).not_to_have_text(first_code)
    new_code = code_box.inner_text()

    # Ada walks in without registering and types the code: the location is asked for once.
    page.get_by_role("button", name="Log out").first.click()
    log_in(page, live_server.url, "ada@wustl.edu", PASSWORD)
    page.goto(f"{live_server.url}/check-in/")
    page.get_by_label("Code on the screen at the door").fill(new_code.lower())
    page.get_by_role("button", name="Check me in").click()
    expect(page.get_by_text("allow this page to use your location")).to_be_visible()
    page.snap("location-asked")
    page.get_by_role("button", name="Check me in").click()
    expect(page.get_by_text("You're checked in.")).to_be_visible()
    ada = EventRegistration.objects.get(event=event, user__email="ada@wustl.edu")
    assert (ada.walk_in, ada.checked_in_at is not None) == (True, True)

    # The code read from a photo later no longer works.
    monkeypatch.setattr(check_in_codes, "_window", lambda moment: shift(moment) + 3)
    page.goto(f"{live_server.url}/check-in/")
    page.get_by_label("Code on the screen at the door").fill(first_code)
    page.get_by_role("button", name="Check me in").click()
    expect(page.get_by_text("This code has expired")).to_be_visible()
    page.snap("expired")
    screen_context.close()
