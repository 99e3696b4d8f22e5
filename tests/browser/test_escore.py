"""On a phone: a hidden student finds their rank on the leaderboard and why they have it."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from escore import services
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    ScoreEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_hidden_student_sees_own_rank_and_the_reasons_for_the_score(live_server, page):
    for name, points in (("Ada", 30), ("Grace", 20), ("Alan", 20)):
        ScoreEntryFactory(
            user=UserFactory(display_name=name), event=None, reason="adjustment", points=points
        )
    bear = UserFactory(email="bear@wustl.edu", leaderboard_visibility="hidden")
    yesterday = timezone.now() - dt.timedelta(days=1)
    event = EventPostFactory(
        title="Jazz Night", starts_at=yesterday, ends_at=yesterday + dt.timedelta(hours=2)
    )
    registration = EventRegistrationFactory(event=event, user=bear, checked_in_at=yesterday)
    services.score_attendance_sync(registration_id=registration.pk)
    services.leaderboard_rebuild()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(re.compile("E-mail|Email", re.IGNORECASE)).fill("bear@wustl.edu")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name=re.compile("Sign In|Log in", re.IGNORECASE)).click()
    page.get_by_role("link", name="Leaderboard").click()

    # Counted among the listed students as if the student were listed too.
    expect(page.get_by_text(re.compile(r"Your rank: 4\s+of 4"))).to_be_visible()
    expect(page.get_by_text("You are hidden from the leaderboard")).to_be_visible()
    rows = page.locator(".leaderboard li")
    expect(rows).to_have_count(3)
    expect(rows.nth(1).locator(".rank")).to_have_text("2")
    expect(rows.nth(2).locator(".rank")).to_have_text("2")
    page.snap("leaderboard-term")

    page.get_by_role("link", name="All time").click()
    expect(page.get_by_text("Your rank: 4")).to_be_visible()

    page.get_by_role("link", name="My E-score").click()
    expect(page.locator(".total")).to_have_text("15")
    expect(page.get_by_text("First event in a new category")).to_be_visible()
    expect(page.get_by_role("link", name="Jazz Night").first).to_be_visible()
    page.snap("my-escore")
