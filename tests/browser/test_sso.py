"""A student signs in with the WUSTL Key, at a real stand-in IdP, and registers for an event:
once over OpenID Connect (tests/sso_idp.py), once over SAML 2.0 (tests/saml_idp.py)."""

import pytest
from playwright.sync_api import expect

from events.models import EventRegistration
from tests.factories import EventPostFactory
from tests.sso_idp import PASSWORD
from users.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


@pytest.mark.parametrize("idp_fixture", ["oidc_idp", "saml_idp"])
def test_student_signs_in_with_wustl_key_and_registers(live_server, page, request, idp_fixture):
    request.getfixturevalue(idp_fixture)
    concert = EventPostFactory(title="Jazz Night at Holmes Lounge", capacity=30)

    page.goto(live_server.url + concert.get_absolute_url())
    page.get_by_role("link", name="Log in to register").click()
    page.snap("login")
    page.get_by_role("button", name="Sign in with WUSTL Key").click()

    expect(page.get_by_role("heading", name=r"WUSTL Key sign-in")).to_be_visible()
    page.get_by_label("WUSTL Key").fill("bear")
    page.get_by_label("Password").fill(PASSWORD)
    page.snap("idp")
    page.get_by_role("button", name="Sign in").click()
    if idp_fixture == "saml_idp":
        page.get_by_role("button", name="Continue to E-Ren").click()

    expect(page.get_by_role("heading", name="Jazz Night at Holmes Lounge")).to_be_visible()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("You're registered. See you there!")).to_be_visible()
    page.snap("registered")
    student = User.objects.get(email="bear.key@wustl.edu")
    assert student.affiliation == "student"
    assert EventRegistration.objects.get(event=concert, user=student).status == "confirmed"
