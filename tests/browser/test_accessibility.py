"""Every page type, on a phone and a desktop, as anonymous, student and organizer: axe-core
(WCAG 2.1 A and AA rules) finds nothing serious or critical. `make screenshots` runs the
same walk and keeps a full-page screenshot of each (test-artifacts/screenshots/).

axe-core comes pinned from npm with the other test tools (deploy/tools/package.json,
installed by `make deploy-tools`, which `make test` runs first). It is evaluated in the page
through the DevTools protocol, so the site's Content-Security-Policy stays as it is.
"""

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from eren.settings import sso
from escore.services import dispute_create
from events.emails.saved_searches import email_off_token
from events.services.saved_searches import saved_search_create
from tests.factories import (
    EventCategoryFactory,
    EventPostFactory,
    EventRegistrationFactory,
    OfficerFactory,
    OrganizationFactory,
    OrganizerFactory,
    ScoreEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".tools/npm/node_modules/axe-core/axe.min.js"
# `make screenshots` sets this: every page checked is also saved there, for review.
SCREENSHOTS = os.environ.get("EREN_SCREENSHOTS")
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  const serious = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}));
  return {serious, passed: result.passes.length};
}"""


@pytest.fixture
def site(db, settings):
    # The WUSTL Key sign-in switched on (no IdP is contacted for these pages): the login page
    # with its button first, and the page a refused campus sign-in gets (403).
    settings.SOCIALACCOUNT_PROVIDERS = sso.socialaccount_providers(
        oidc=sso.oidc_app(issuer="http://127.0.0.1:9/", client_id="eren", client_secret="x"),
        saml=None,
    )
    category = EventCategoryFactory(name="Technology", slug="technology")
    organizer = OrganizerFactory(email="organizer@wustl.edu", display_name="Robotics Club")
    student = UserFactory(
        email="student@wustl.edu", display_name="Bear", access_needs=["step_free"]
    )
    club = OrganizationFactory(name="Robotics Club", slug="robotics")
    OfficerFactory(organization=club, user=organizer)
    soon = timezone.now() + dt.timedelta(days=2)
    event = EventPostFactory(
        title="Robot Arm Demo Day",
        organizer=organizer,
        organization=club,
        category=category,
        starts_at=soon,
        ends_at=soon + dt.timedelta(hours=2),
        capacity=30,
        access_features=["step_free", "captions"],
        access_contact="access@wustl.edu",
    )
    # Picked "For you" on the student's home page, with accessibility badges.
    EventPostFactory(
        title="Chess Night",
        organizer=organizer,
        category=category,
        access_features=["step_free", "food"],
        allergens="pizza: wheat, milk",
        latitude=38.6488,
        longitude=-90.3108,
    )
    registration = EventRegistrationFactory(event=event, user=student)
    saved, _ = saved_search_create(user=student, name="Robots", query={"q": ["robot"]})
    yesterday = timezone.now() - dt.timedelta(days=1)
    past = EventPostFactory(
        title="Soldering Workshop",
        organizer=organizer,
        organization=club,
        category=category,
        starts_at=yesterday,
        ends_at=yesterday + dt.timedelta(hours=2),
    )
    EventRegistrationFactory(event=past, user=student)
    dispute_create(user=student, event_id=past.pk, note="I was at the front table.")
    # My E-score draws its charts.
    ScoreEntryFactory(user=student, event=event, points=10, reason="attended")
    return {
        "anonymous": (
            None,
            [
                "/",
                "/search/?q=robot",
                "/search/?q=zzqxv",
                "/search/map/",
                "/search/calendar/?view=week",
                "/search/calendar/?view=month",
                f"/events/{event.pk}/",
                "/leaderboard/",
                "/accounts/login/",
                "/accounts/signup/",
                ("/accounts/oidc/wustl/login/callback/?code=x&state=unknown", 403),
                "/orgs/",
                "/orgs/robotics/",
                f"/searches/email-off/{email_off_token(saved)}",
            ],
        ),
        "student": (
            student,
            [
                "/",
                f"/events/{event.pk}/",
                "/me/events/",
                "/me/escore/",
                "/me/events/calendar/?view=week",
                "/me/events/calendar/?view=month",
                f"/me/tickets/{registration.pk}/",
                "/me/account/",
                "/me/following/",
                "/search/?q=robot",
                "/me/searches/",
                "/search/?access=captions",
            ],
        ),
        "organizer": (
            organizer,
            [
                "/organize/",
                "/organize/?show=drafts",
                "/organize/events/new",
                f"/organize/events/{event.pk}/",
                f"/organize/events/{event.pk}/edit",
                f"/organize/events/{event.pk}/door",
                f"/organize/events/{event.pk}/questions",
                f"/organize/events/{event.pk}/duplicate",
                "/orgs/robotics/officers/",
                "/orgs/robotics/members/",
                "/orgs/robotics/edit",
                "/organize/disputes/",
            ],
        ),
    }


def _session_cookie(user, url: str) -> dict:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": url}


def test_no_serious_or_critical_axe_findings_on_any_page(live_server, browser, site):
    if not AXE.exists():
        pytest.fail(f"axe-core not found at {AXE}: run `make deploy-tools`")
    axe = AXE.read_text()
    findings = []
    for role, (user, paths) in site.items():
        for viewport_name, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport, locale="en-US")
            if user is not None:
                context.add_cookies([_session_cookie(user, live_server.url)])
            page = context.new_page()
            page.set_default_timeout(10_000)
            for entry in paths:
                path, status = (entry, 200) if isinstance(entry, str) else entry
                response = page.goto(live_server.url + path)
                assert response.status == status, (role, path, response.status)
                if SCREENSHOTS:
                    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
                    name = f"{role}-{viewport_name}-{slug}.png"
                    page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)
                page.evaluate(axe)
                result = page.evaluate(RUN_AXE, RULES)
                assert result["passed"] >= 10, (role, path, result)  # axe did look at the page
                where = {"role": role, "viewport": viewport_name, "path": path}
                findings += [{**where, **violation} for violation in result["serious"]]
            context.close()
    assert not findings, json.dumps(findings, indent=1)


def test_the_check_finds_what_it_looks_for(page):
    """The harness itself: a page with an unlabelled button and an image without alt text."""
    page.set_content(
        '<html lang="en"><title>t</title><main><img src="x.png"><button></button></main></html>'
    )
    page.evaluate(AXE.read_text())
    found = {violation["id"] for violation in page.evaluate(RUN_AXE, RULES)["serious"]}
    assert {"image-alt", "button-name"} <= found
