"""Clubs on a phone: a student follows a club and sees its new event at home; the club's
president hands over to the next president."""

import re

import pytest
from playwright.sync_api import expect

from orgs.models import Officer
from tests.factories import EventPostFactory, OfficerFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label(re.compile("E-mail|Email", re.IGNORECASE)).fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name=re.compile("Sign In|Log in", re.IGNORECASE)).click()
    expect(page.get_by_role("link", name="Account")).to_be_visible()


def test_student_follows_a_club_and_its_president_hands_over(live_server, page):
    club = OrganizationFactory(name="WashU Chess Club", slug="chess", description="Blitz.")
    OrganizationFactory(name="Go Society", slug="go")
    president = OfficerFactory(
        organization=club, user=UserFactory(email="pres@wustl.edu", display_name="Pat")
    ).user
    UserFactory(email="bear@wustl.edu", display_name="Bear")
    UserFactory(email="next@wustl.edu", display_name="Nia")

    log_in(page, live_server.url, "bear@wustl.edu")
    page.get_by_role("link", name="Clubs").click()
    page.get_by_label("Search organizations").fill("chess")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Go Society")).to_have_count(0)
    page.get_by_role("link", name="WashU Chess Club").click()
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_text("You follow WashU Chess Club")).to_be_visible()
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
    page.snap("following")

    # The club posts a new event; the student's home page shows it.
    EventPostFactory(title="Friday Blitz Tournament", organization=club, organizer=president)
    page.get_by_role("link", name="Events").first.click()
    followed = page.locator("section.followed")
    expect(followed.get_by_role("heading", name="From organizations you follow")).to_be_visible()
    expect(followed.get_by_role("link", name="Friday Blitz Tournament")).to_be_visible()
    page.snap("home")

    page.context.clear_cookies()
    log_in(page, live_server.url, "pres@wustl.edu")
    page.goto(f"{live_server.url}/orgs/chess/officers/")
    page.get_by_label("E-mail of the next president").fill("next@wustl.edu")
    page.get_by_role("button", name="Hand over").click()
    expect(page.get_by_text("Nia is now president.")).to_be_visible()
    page.snap("handed-over")
    roles = dict(Officer.objects.values_list("user__email", "role"))
    assert roles == {"pres@wustl.edu": "officer", "next@wustl.edu": "president"}
