"""Single sign-on with the campus account (WUSTL Key): allauth's social-account hooks.

Trust model (docs/security.md): the identity provider's stable subject names one E-Ren
account; the school address it asserts is taken as verified, but only inside SSO_EMAIL_DOMAINS;
an address that already has an E-Ren account is linked only after that account's own sign-in
(password or sign-in code) in the same browser, never silently. Name and affiliation are
updated on every sign-in. Each refusal renders one page (403), creates nothing and logs a
warning for staff.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import user_logged_in
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.contrib import messages
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from .addresses import email_canonical
from .models import User

logger = logging.getLogger("users.sso")

PENDING_LINK_SESSION_KEY = "sso_pending_link"
# How long an SSO sign-in that found an existing account waits for that account's sign-in.
PENDING_LINK_SECONDS = 15 * 60
# What the protocol flows stash in the session for single logout (users.sso_logout).
LOGOUT_SESSION_KEY = "sso_logout"

# Most to least privileged: a person asserted as both staff and student counts as staff.
AFFILIATION_ORDER = [
    User.Affiliation.FACULTY,
    User.Affiliation.STAFF,
    User.Affiliation.STUDENT,
]

REFUSAL_MESSAGES = {
    "missing_subject": "The campus sign-in did not say who you are (no subject identifier).",
    "email_outside_school": (
        "The campus sign-in gave an e-mail address outside the school's domains, "
        "so E-Ren cannot use it."
    ),
    "missing_email": "The campus sign-in did not give your school e-mail address.",
    "invalid_response": (
        "The answer from the campus sign-in could not be verified (signature, audience or "
        "validity period)."
    ),
    "replayed": "This campus sign-in answer was already used. Please sign in again.",
    "cancelled": "The campus sign-in was cancelled.",
    "unknown": "The campus sign-in could not be completed.",
}


def sso_refusal(request: HttpRequest, *, reason: str, detail: str = "") -> HttpResponse:
    """The page every refused SSO sign-in gets, and the warning staff see in the logs."""
    logger.warning(
        "SSO sign-in refused: %s%s",
        reason,
        f" ({detail})" if detail else "",
        extra={"sso_reason": reason, "sso_detail": detail},
    )
    message = REFUSAL_MESSAGES.get(reason, REFUSAL_MESSAGES["unknown"])
    return render(
        request,
        "socialaccount/authentication_error.html",
        {"sso_message": message, "sso_reason": reason},
        status=200 if reason == "cancelled" else 403,
    )


def sso_claims(sociallogin: SocialLogin) -> dict[str, Any]:
    """Subject, address, name and affiliation from a verified ID token or SAML assertion."""
    account = sociallogin.account
    data = account.extra_data or {}
    if "id_token" in data:  # OpenID Connect (users.sso_oidc verified it)
        token = data.get("id_token") or {}
        name = token.get("name") or " ".join(
            part for part in (token.get("given_name"), token.get("family_name")) if part
        )
        raw_affiliation = token.get("affiliation") or token.get("eduperson_affiliation") or []
        asserted_email = str(token.get("email") or "")
    else:
        from eren.settings.sso import SAML_AFFILIATION_ATTRIBUTE

        mapping = sociallogin.provider.app.settings.get("attribute_mapping", {})

        def first(key: str) -> str:
            for name in mapping.get(key, []):
                values = data.get(name) or []
                if values:
                    return str(values[0])
            return ""

        name = first("name") or " ".join(
            part for part in (first("first_name"), first("last_name")) if part
        )
        raw_affiliation = data.get(SAML_AFFILIATION_ATTRIBUTE) or data.get("affiliation") or []
        asserted_email = first("email")
    if isinstance(raw_affiliation, str):
        raw_affiliation = [raw_affiliation]
    asserted = {str(value).strip().lower() for value in raw_affiliation}
    affiliation = next((value for value in AFFILIATION_ORDER if value in asserted), "")
    # What the IdP asserted, before allauth drops an address outside the school domains.
    emails = [address.email for address in sociallogin.email_addresses if address.email]
    email = asserted_email or (emails[0] if emails else "")
    return {
        "uid": account.uid or "",
        "email": email.strip(),
        "name": name.strip()[:80],
        "affiliation": affiliation,
    }


def sso_email_is_school(email: str) -> bool:
    if not email.isascii() or email.count("@") != 1:
        return False
    return email.rsplit("@", 1)[1].lower() in set(settings.SSO_EMAIL_DOMAINS)


def sso_profile_apply(*, user: User, claims: dict[str, Any], save: bool) -> None:
    """Name and affiliation as the IdP asserts them now; the organizer role where configured.

    A role is only ever granted here, never taken: organizers approved by staff stay so.
    """
    changed: list[str] = []
    if claims["name"] and user.display_name != claims["name"]:
        user.display_name = claims["name"]
        changed.append("display_name")
    if user.affiliation != claims["affiliation"]:
        user.affiliation = claims["affiliation"]
        changed.append("affiliation")
    if (
        claims["affiliation"]
        and claims["affiliation"] in settings.SSO_ORGANIZER_AFFILIATIONS
        and not user.is_organizer
    ):
        user.is_organizer = True
        changed.append("is_organizer")
    if save and changed:
        user.save(update_fields=changed)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """SSO makes accounts even when e-mail sign-up is closed (SSO_EMAIL_SIGNUP_OPEN)."""
        return True

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        claims = sso_claims(sociallogin)
        if not claims["uid"]:
            raise ImmediateHttpResponse(sso_refusal(request, reason="missing_subject"))
        if not claims["email"]:
            raise ImmediateHttpResponse(
                sso_refusal(request, reason="missing_email", detail=f"subject {claims['uid']}")
            )
        if not sso_email_is_school(claims["email"]):
            raise ImmediateHttpResponse(
                sso_refusal(
                    request,
                    reason="email_outside_school",
                    detail=f"subject {claims['uid']} asserted {claims['email']}",
                )
            )
        email = email_canonical(claims["email"])
        # The school's own IdP vouches for its addresses: verified, primary.
        sociallogin.email_addresses = [EmailAddress(email=email, verified=True, primary=True)]
        if sociallogin.is_existing:
            sso_profile_apply(user=sociallogin.user, claims=claims, save=True)
            return
        sociallogin.user.email = email
        existing = User.objects.filter(email=email).first()
        if existing is not None:
            raise ImmediateHttpResponse(self._ask_for_existing_sign_in(request, sociallogin))

    def _ask_for_existing_sign_in(
        self, request: HttpRequest, sociallogin: SocialLogin
    ) -> HttpResponse:
        """Keep the SSO identity in this session until the account's own sign-in proves the
        person holds it too (link_pending_complete); nothing is linked before that."""
        request.session[PENDING_LINK_SESSION_KEY] = {
            "sociallogin": sociallogin.serialize(),
            "email": sociallogin.user.email,
            "expires_at": time.time() + PENDING_LINK_SECONDS,
        }
        logger.info("SSO identity waits for the existing account's sign-in to be linked")
        messages.info(
            request,
            f"An E-Ren account already uses {sociallogin.user.email}. Sign in to it once with "
            "its password (or a sign-in code) to link your WUSTL Key; after that the WUSTL "
            "Key alone signs you in.",
        )
        return redirect(reverse("account_login"))

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict) -> Any:
        user = super().populate_user(request, sociallogin, data)
        if user.email:
            user.email = email_canonical(user.email)
        return user

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        sso_profile_apply(user=sociallogin.user, claims=sso_claims(sociallogin), save=False)
        return super().save_user(request, sociallogin, form)

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        extra_context = extra_context or {}
        detail = str(exception or extra_context.get("saml_last_error_reason") or error or "")
        reason = extra_context.get("sso_reason") or (
            "cancelled" if error == "cancelled" else "invalid_response"
        )
        raise ImmediateHttpResponse(sso_refusal(request, reason=reason, detail=detail))


@receiver(user_logged_in)
def link_pending_complete(
    sender: Any, request: HttpRequest, user: User, sociallogin: Any = None, **kwargs: Any
) -> None:
    """After the existing account's own sign-in, link the SSO identity waiting in the session
    (same address, not expired); any other sign-in drops it."""
    if request is None or not hasattr(request, "session"):
        return
    pending = request.session.pop(PENDING_LINK_SESSION_KEY, None)
    if not pending or sociallogin is not None:
        return
    if pending["expires_at"] < time.time() or pending["email"] != user.email:
        logger.info("Pending SSO link dropped (expired or another account signed in)")
        return
    waiting = SocialLogin.deserialize(pending["sociallogin"])
    waiting.connect(request, user)
    claims = sso_claims(waiting)
    sso_profile_apply(user=user, claims=claims, save=True)
    EmailAddress.objects.filter(user=user, email=user.email).update(verified=True)
    logger.info("SSO identity linked to an existing account after its own sign-in")
    messages.success(request, "Your WUSTL Key is now linked: use it to sign in from now on.")
