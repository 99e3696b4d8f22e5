"""SAML 2.0 sign-in: allauth's assertion consumer, plus a bounded clock skew and replay refusal.

python3-saml (strict mode, signed assertions required by eren.settings.sso) checks the
signature, audience, destination and validity window; this view bounds the window's clock
skew by SSO_CLOCK_SKEW_SECONDS and remembers every accepted assertion ID until it expires, so
the same response posted twice signs nobody in.
"""

from __future__ import annotations

import binascii
import logging
from datetime import UTC, datetime, timedelta

from allauth.core.internal import httpkit
from allauth.socialaccount.helpers import complete_social_login, render_authentication_error
from allauth.socialaccount.providers.base.constants import AuthError
from allauth.socialaccount.providers.saml.utils import build_auth, get_app_or_404
from allauth.socialaccount.sessions import LoginSession
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error

from .models import SsoAssertion
from .sso import LOGOUT_SESSION_KEY

logger = logging.getLogger("users.sso")


def assertion_remember(*, assertion_id: str, expires_at: datetime) -> bool:
    """True the first time an assertion ID is seen (before it expires), False on a replay."""
    SsoAssertion.objects.filter(expires_at__lt=timezone.now()).delete()
    try:
        with transaction.atomic():
            SsoAssertion.objects.create(assertion_id=assertion_id, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def finish_acs(request: HttpRequest, organization_slug: str) -> HttpResponse:
    provider = get_app_or_404(request, organization_slug).get_provider(request)
    acs_session = LoginSession(request, "saml_acs_session", "saml-acs-session")
    acs_request_data = acs_session.store.get("request")
    acs_request = (
        httpkit.deserialize_request(acs_request_data, HttpRequest()) if acs_request_data else None
    )
    acs_session.delete()
    if acs_request is None:
        return render_authentication_error(
            request, provider, extra_context={"sso_reason": "unknown"}
        )

    # python3-saml reads its tolerance from this constant when it checks NotBefore/NotOnOrAfter.
    OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT = settings.SSO_CLOCK_SKEW_SECONDS
    auth = build_auth(acs_request, provider)
    error_reason = None
    errors: list[str] = []
    try:
        # InResponseTo is matched below against the state this browser stashed.
        auth.process_response(request_id=None)
    except binascii.Error:
        errors, error_reason = ["invalid_response"], "Invalid response"
    except (OneLogin_Saml2_Error, ValueError) as error:
        errors, error_reason = ["error"], str(error)
    errors = errors or auth.get_errors()
    if errors:
        error_reason = auth.get_last_error_reason() or error_reason
        return render_authentication_error(
            request,
            provider,
            extra_context={"saml_last_error_reason": f"{', '.join(errors)}: {error_reason}"},
        )
    if not auth.is_authenticated():
        return render_authentication_error(request, provider, error=AuthError.CANCELLED)

    if not provider.extract_uid(auth):
        return render_authentication_error(
            request, provider, extra_context={"sso_reason": "missing_subject"}
        )
    assertion_id = auth.get_last_assertion_id()
    not_on_or_after = auth.get_last_assertion_not_on_or_after()
    expires_at = (
        datetime.fromtimestamp(not_on_or_after, tz=UTC)
        if not_on_or_after
        else timezone.now() + timedelta(hours=1)
    ) + timedelta(seconds=settings.SSO_CLOCK_SKEW_SECONDS)
    if not assertion_id or not assertion_remember(assertion_id=assertion_id, expires_at=expires_at):
        return render_authentication_error(
            request,
            provider,
            extra_context={"sso_reason": "replayed", "saml_last_error_reason": assertion_id},
        )
    state_id = auth.get_last_response_in_response_to()
    state = provider.unstash_redirect_state(request, state_id) if state_id else None
    if not state:
        # Unsolicited (IdP-initiated) or another browser's response: refused.
        return render_authentication_error(
            request,
            provider,
            extra_context={"saml_last_error_reason": "no sign-in of this browser awaits it"},
        )
    login = provider.sociallogin_from_response(request, auth)
    login.state = state
    if provider.app.settings.get("idp", {}).get(
        "slo_url"
    ) or auth.get_settings().get_idp_data().get("singleLogoutService", {}).get("url"):
        request.session[LOGOUT_SESSION_KEY] = {
            "protocol": "saml",
            "name_id": auth.get_nameid(),
            "name_id_format": auth.get_nameid_format(),
            "session_index": auth.get_session_index(),
        }
    return complete_social_login(request, login)
