"""Sign-in with the WUSTL Key over OpenID Connect, against a real stand-in provider
(tests/sso_idp.py): every step is HTTP, the ID token is really signed, and a token that was
tampered with, meant for another client, expired, or not bound to this sign-in is refused."""

import base64
import json
import logging
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from tests.factories import UserFactory
from tests.sso_idp import PASSWORD
from users.models import User

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("openid_connect_login", kwargs={"provider_id": "wustl"})


def oidc_sign_in(client, idp, username="bear"):
    """Click "Sign in with WUSTL Key", sign in at the provider, come back: the last answer."""
    response = client.post(LOGIN_URL, {"process": "login"})
    assert response.status_code == 302, response.content[:500]
    authorize = response["Location"]
    assert authorize.startswith(f"{idp.url}/authorize?")
    query = dict(parse_qsl(urlsplit(authorize).query))
    assert query["nonce"]
    assert query["code_challenge"]
    assert requests.get(authorize, timeout=5).status_code == 200
    at_idp = requests.post(
        f"{idp.url}/authorize",
        data={**query, "username": username, "password": PASSWORD},
        allow_redirects=False,
        timeout=5,
    )
    assert at_idp.status_code == 302
    return client.get(at_idp.headers["Location"])


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_first_sign_in_makes_a_verified_account_with_name_and_affiliation(client, oidc_idp):
    response = oidc_sign_in(client, oidc_idp)

    assert response.status_code == 302
    user = signed_in_user(client)
    assert user is not None
    assert user.email == "bear.key@wustl.edu"
    assert user.display_name == "Bear Key"
    assert user.affiliation == "student"
    assert not user.is_organizer
    assert EmailAddress.objects.get(user=user).verified
    assert SocialAccount.objects.get(user=user).uid == "wustl-1001"


def test_each_sign_in_updates_name_and_affiliation_and_keeps_one_account(client, oidc_idp):
    oidc_sign_in(client, oidc_idp)
    client.logout()
    oidc_idp.users["bear"].update(name="Bear K. Bruin", affiliation=["staff"])

    oidc_sign_in(client, oidc_idp)

    user = signed_in_user(client)
    assert user.display_name == "Bear K. Bruin"
    assert user.affiliation == "staff"
    assert User.objects.count() == 1
    assert SocialAccount.objects.count() == 1


def test_affiliation_grants_the_organizer_role_only_where_configured(client, oidc_idp, settings):
    oidc_sign_in(client, oidc_idp, username="staffer")
    assert signed_in_user(client).is_organizer is False
    client.logout()

    settings.SSO_ORGANIZER_AFFILIATIONS = ["staff"]
    oidc_sign_in(client, oidc_idp, username="staffer")

    staffer = signed_in_user(client)
    assert staffer.affiliation == "staff"
    assert staffer.is_organizer is True


def _forge_email(token: str) -> str:
    """The same signature over a payload that now names someone else."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "someone.else@wustl.edu"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("misbehaviour", "reason"),
    [
        ({"tamper": _forge_email}, "invalid_response"),
        ({"claims": {"aud": "another-client"}}, "invalid_response"),
        ({"claims": {"iss": "http://127.0.0.1:1/elsewhere"}}, "invalid_response"),
        (
            {"claims": {"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}},
            "invalid_response",
        ),
        ({"claims": {"nonce": "a-nonce-of-another-sign-in"}}, "invalid_response"),
        ({"claims": {"sub": None}}, "invalid_response"),
        ({"claims": {"email": "bear@gmail.com"}}, "email_outside_school"),
        ({"claims": {"email": None}}, "missing_email"),
    ],
    ids=[
        "tampered",
        "wrong-audience",
        "wrong-issuer",
        "expired",
        "wrong-nonce",
        "no-subject",
        "outside-domain",
        "no-email",
    ],
)
def test_bad_id_tokens_are_refused_with_a_page_nothing_created_and_logged(
    client, oidc_idp, caplog, misbehaviour, reason
):
    for name, value in misbehaviour.items():
        setattr(oidc_idp, name, value)

    with caplog.at_level(logging.WARNING, logger="users.sso"):
        response = oidc_sign_in(client, oidc_idp)

    assert response.status_code == 403
    assert b"Campus sign-in refused" in response.content
    assert signed_in_user(client) is None
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()
    refusals = [r for r in caplog.records if r.name == "users.sso" and r.levelname == "WARNING"]
    assert [r.sso_reason for r in refusals] == [reason]


def test_a_small_clock_difference_is_tolerated(client, oidc_idp):
    oidc_idp.claims = {"iat": int(time.time()) + 60}  # the provider's clock runs a minute ahead

    oidc_sign_in(client, oidc_idp)

    assert signed_in_user(client) is not None


def test_existing_email_account_is_linked_only_after_its_own_password_sign_in(client, oidc_idp):
    owner = UserFactory(email="bear.key@wustl.edu", display_name="Bear")

    response = oidc_sign_in(client, oidc_idp)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()
    assert User.objects.count() == 1

    client.post(
        reverse("account_login"),
        {"login": "bear.key@wustl.edu", "password": "correct-horse-battery"},
    )

    assert signed_in_user(client) == owner
    account = SocialAccount.objects.get()
    assert (account.user, account.uid) == (owner, "wustl-1001")
    owner.refresh_from_db()
    assert owner.affiliation == "student"
    client.logout()
    oidc_sign_in(client, oidc_idp)
    assert signed_in_user(client) == owner


def test_a_waiting_link_is_dropped_when_another_account_signs_in(client, oidc_idp):
    UserFactory(email="bear.key@wustl.edu")
    other = UserFactory(email="someone@wustl.edu")
    oidc_sign_in(client, oidc_idp)

    client.post(
        reverse("account_login"),
        {"login": "someone@wustl.edu", "password": "correct-horse-battery"},
    )

    assert signed_in_user(client) == other
    assert not SocialAccount.objects.exists()


def test_sign_out_ends_the_provider_session_too(client, oidc_idp):
    oidc_sign_in(client, oidc_idp)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{oidc_idp.url}/logout?")
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["post_logout_redirect_uri"] == "http://testserver/"
    assert query["id_token_hint"].count(".") == 2
    assert signed_in_user(client) is None


def test_login_page_offers_the_wustl_key_first_only_when_configured(client, settings):
    page = client.get(reverse("account_login")).content.decode()
    assert "Sign in with WUSTL Key" not in page
    assert reverse("account_signup") in page

    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"APPS": [{"provider_id": "wustl", "client_id": "x", "secret": "y"}]},
        "saml": {"APPS": []},
    }
    settings.SSO_EMAIL_SIGNUP_OPEN = False
    page = client.get(reverse("account_login")).content.decode()

    assert page.index("Sign in with WUSTL Key") < page.index('name="password"')
    assert f'action="{LOGIN_URL}"' in page
    assert reverse("account_signup") + '"' not in page
    closed = client.post(
        reverse("account_signup"),
        {
            "email": "new@wustl.edu",
            "password1": "a-long-passphrase",
            "password2": "a-long-passphrase",
        },
    )
    assert b"Sign Up Closed" in closed.content
    assert not User.objects.filter(email="new@wustl.edu").exists()
