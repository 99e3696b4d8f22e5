"""Single logout: signing out of E-Ren after a WUSTL Key sign-in also ends the IdP session,
where the IdP offers it (OIDC end_session_endpoint, SAML SingleLogoutService)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import urlencode

from .sso import LOGOUT_SESSION_KEY

logger = logging.getLogger("users.sso")


def sso_logout_url(request: HttpRequest) -> str | None:
    """Where to send the browser to end its IdP session too, or None."""
    stashed = request.session.get(LOGOUT_SESSION_KEY) if hasattr(request, "session") else None
    if not stashed or not request.user.is_authenticated:
        return None
    back = request.build_absolute_uri(settings.LOGOUT_REDIRECT_URL)
    if stashed.get("protocol") == "oidc":
        separator = "&" if "?" in stashed["url"] else "?"
        return (
            stashed["url"]
            + separator
            + urlencode(
                {
                    "id_token_hint": stashed["id_token_hint"],
                    "client_id": stashed["client_id"],
                    "post_logout_redirect_uri": back,
                }
            )
        )
    if stashed.get("protocol") == "saml":
        from allauth.socialaccount.providers.saml.utils import build_auth, get_app_or_404

        from eren.settings.sso import SSO_SLUG

        try:
            provider = get_app_or_404(request, SSO_SLUG).get_provider(request)
            return build_auth(request, provider).logout(
                return_to=back,
                name_id=stashed.get("name_id"),
                session_index=stashed.get("session_index"),
                name_id_format=stashed.get("name_id_format"),
            )
        except Exception:  # a broken IdP configuration must not keep anybody signed in
            logger.exception("SAML single logout could not be started; signing out locally")
    return None
