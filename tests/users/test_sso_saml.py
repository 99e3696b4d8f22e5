"""Sign-in with the WUSTL Key over SAML 2.0, against a real stand-in IdP (tests/saml_idp.py):
the AuthnRequest and the signed Response travel over HTTP as with the campus IdP, and an
unsigned, tampered, misaddressed, expired or replayed response signs nobody in."""

import logging
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from tests.saml_idp import EMAIL
from tests.sso_idp import PASSWORD
from users.models import User

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("saml_login", kwargs={"organization_slug": "wustl"})
METADATA_URL = "/accounts/saml/wustl/metadata/"


def saml_response_for(client, idp, username="bear"):
    """Click "Sign in with WUSTL Key", sign in at the IdP: the form it posts back to E-Ren."""
    response = client.post(LOGIN_URL, {"process": "login"})
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].startswith(f"{idp.sso_url}?")
    query = dict(parse_qsl(urlsplit(response["Location"]).query))
    at_idp = requests.post(
        idp.sso_url,
        data={**query, "username": username, "password": PASSWORD},
        timeout=5,
    )
    assert b"Continue to E-Ren" in at_idp.content
    return {"SAMLResponse": idp.last_response, "RelayState": idp.last_relay_state}


def post_to_acs(client, idp, form):
    acs = client.post(urlsplit(idp.last_acs_url).path, form)
    assert acs.status_code == 302
    return client.get(acs["Location"])


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_sp_metadata_is_at_a_stable_url_with_entity_id_and_acs(client, saml_idp):
    response = client.get(METADATA_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314
    md = "{urn:oasis:names:tc:SAML:2.0:metadata}"
    assert root.tag == f"{md}EntityDescriptor"
    assert root.get("entityID") == f"http://localhost{METADATA_URL}"
    sp = root.find(f"{md}SPSSODescriptor")
    assert sp.get("WantAssertionsSigned") == "true"
    acs = sp.find(f"{md}AssertionConsumerService")
    assert acs.get("Location") == "http://localhost/accounts/saml/wustl/acs/"


def test_signed_assertion_signs_in_with_a_verified_school_address(client, saml_idp):
    response = post_to_acs(client, saml_idp, saml_response_for(client, saml_idp))

    assert response.status_code == 302
    user = signed_in_user(client)
    assert (user.email, user.display_name, user.affiliation) == (
        "bear.key@wustl.edu",
        "Bear Key",
        "student",
    )
    assert EmailAddress.objects.get(user=user).verified
    assert SocialAccount.objects.get(user=user).uid == "wustl-1001"


def _tamper_email(xml: str) -> str:
    return xml.replace("bear.key@wustl.edu", "someone.else@wustl.edu")


@pytest.mark.parametrize(
    ("misbehaviour", "reason"),
    [
        ({"sign_assertion": False}, "invalid_response"),
        ({"tamper": _tamper_email}, "invalid_response"),
        ({"audience": "https://another-sp.example/metadata"}, "invalid_response"),
        ({"shift": timedelta(minutes=-20)}, "invalid_response"),
        ({"omit_subject": True}, "missing_subject"),
    ],
    ids=["unsigned", "tampered", "wrong-audience", "expired", "no-subject"],
)
def test_bad_responses_are_refused_with_a_page_nothing_created_and_logged(
    client, saml_idp, caplog, misbehaviour, reason
):
    for name, value in misbehaviour.items():
        setattr(saml_idp, name, value)

    with caplog.at_level(logging.WARNING, logger="users.sso"):
        response = post_to_acs(client, saml_idp, saml_response_for(client, saml_idp))

    assert response.status_code == 403
    assert b"Campus sign-in refused" in response.content
    assert signed_in_user(client) is None
    assert not User.objects.exists()
    refusals = [r for r in caplog.records if r.name == "users.sso" and r.levelname == "WARNING"]
    assert [r.sso_reason for r in refusals] == [reason]


def test_address_outside_the_school_domains_is_refused(client, saml_idp, caplog):
    saml_idp.users["bear"][EMAIL] = "bear@gmail.com"

    with caplog.at_level(logging.WARNING, logger="users.sso"):
        response = post_to_acs(client, saml_idp, saml_response_for(client, saml_idp))

    assert response.status_code == 403
    assert not User.objects.exists()
    assert [r.sso_reason for r in caplog.records if r.name == "users.sso"] == [
        "email_outside_school"
    ]


def test_a_replayed_response_signs_nobody_in(client, saml_idp, caplog):
    form = saml_response_for(client, saml_idp)
    post_to_acs(client, saml_idp, form)
    assert signed_in_user(client) is not None
    client.logout()

    # The attacker starts a sign-in of their own (so a state awaits) and posts the old answer.
    saml_response_for(client, saml_idp)
    with caplog.at_level(logging.WARNING, logger="users.sso"):
        response = post_to_acs(client, saml_idp, form)

    assert response.status_code == 403
    assert signed_in_user(client) is None
    assert [r.sso_reason for r in caplog.records if r.name == "users.sso"] == ["replayed"]


def test_sign_out_starts_single_logout_at_the_idp(client, saml_idp):
    post_to_acs(client, saml_idp, saml_response_for(client, saml_idp))

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response["Location"].startswith(f"{saml_idp.slo_url}?SAMLRequest=")
    assert signed_in_user(client) is None
