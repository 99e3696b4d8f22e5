"""Keyboard only, on a desktop: a student registers and cancels without a pointer, and sees
where the focus is at every step (WCAG 2.1.1 and 2.4.7)."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events.models import EventRegistration
from tests.browser.test_accessibility import _session_cookie
from tests.factories import EventPostFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {text: element.innerText.trim(), tag: element.tagName,
          outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth)};
}"""


def _tab_to(page, text: str, *, limit: int = 40) -> None:
    """Press Tab until the control named `text` has the focus; every stop must show it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["outline"] >= 2, f"focus not visible on {focused}"
        if focused["text"] == text:
            return
    pytest.fail(f"{text!r} cannot be reached with Tab")


def test_register_and_cancel_with_the_keyboard_alone(live_server, browser):
    student = UserFactory(email="keys@wustl.edu")
    soon = timezone.now() + dt.timedelta(days=3)
    event = EventPostFactory(title="Quiet Study Jam", starts_at=soon, capacity=10)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    context.add_cookies([_session_cookie(student, live_server.url)])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/events/{event.pk}/")

    _tab_to(page, "Register")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Cancel my registration")).to_be_visible()
    assert EventRegistration.objects.get(event=event, user=student).status == "confirmed"

    _tab_to(page, "Cancel my registration")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Register")).to_be_visible()
    assert EventRegistration.objects.get(event=event, user=student).status == "cancelled"
    context.close()
