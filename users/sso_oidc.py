"""OpenID Connect sign-in with every ID token verified, wherever it came from.

allauth skips the ID token's signature when the token arrives from the token endpoint (the
specification allows it over TLS); E-Ren checks it anyway against the provider's JWKS, with
the issuer, audience, expiry, a nonce bound to this browser's session and a bounded clock skew,
before allauth logs anybody in. A token that fails any check is refused (users.sso).
"""

from __future__ import annotations

import secrets
from typing import Any

import jwt
import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect import views as allauth_oidc
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import urlencode

from .sso import LOGOUT_SESSION_KEY

NONCE_SESSION_KEY = "sso_oidc_nonce"
# Asymmetric only: an `alg: none` or HMAC token (keyed with the public key) is refused.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


def id_token_verify(
    *,
    id_token: str,
    jwks_uri: str,
    issuer: str,
    client_id: str,
    nonce: str | None,
    leeway_seconds: int,
) -> dict[str, Any]:
    """The ID token's claims, or OAuth2Error saying which check failed."""
    try:
        header = jwt.get_unverified_header(id_token)
        algorithm = header.get("alg")
        if algorithm not in ID_TOKEN_ALGORITHMS:
            raise OAuth2Error(f"ID token algorithm {algorithm!r} is not accepted")
        with get_adapter().get_requests_session() as session:
            response = session.get(jwks_uri, timeout=10)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json())
        kid = header.get("kid")
        candidates = [key for key in keys.keys if kid is None or key.key_id == kid]
        if not candidates:
            raise OAuth2Error(f"ID token key {kid!r} is not in the provider's JWKS")
        claims = jwt.decode(
            id_token,
            key=candidates[0],
            algorithms=[algorithm],
            audience=client_id,
            issuer=issuer,
            leeway=leeway_seconds,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except (jwt.PyJWTError, requests.RequestException, ValueError) as error:
        raise OAuth2Error(f"ID token refused: {error}") from error
    if not str(claims.get("sub") or "").strip():
        raise OAuth2Error("ID token refused: no subject")
    if claims.get("azp") not in (None, client_id):
        raise OAuth2Error("ID token refused: issued to another client (azp)")
    if nonce is None or not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise OAuth2Error("ID token refused: nonce does not match this sign-in")
    return claims


class VerifyingOpenIDConnectAdapter(allauth_oidc.OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        claims = id_token_verify(
            id_token=id_token,
            jwks_uri=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            client_id=app.client_id,
            nonce=self.request.session.pop(NONCE_SESSION_KEY, None),
            leeway_seconds=settings.SSO_CLOCK_SKEW_SECONDS,
        )
        end_session = self.openid_config.get("end_session_endpoint")
        if end_session:
            # For single logout (users.sso_logout): where, and which sign-in to end.
            self.request.session[LOGOUT_SESSION_KEY] = {
                "protocol": "oidc",
                "url": end_session,
                "id_token_hint": id_token,
                "client_id": app.client_id,
            }
        return claims


def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's OIDC login, with a fresh nonce bound to this session in the request."""
    nonce = secrets.token_urlsafe(32)
    request.session[NONCE_SESSION_KEY] = nonce
    query = request.GET.copy()
    query["auth_params"] = urlencode({"nonce": nonce})
    request.GET = query  # type: ignore[assignment]
    return allauth_oidc.login(request, provider_id)


def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        view = OAuth2CallbackView.adapter_view(VerifyingOpenIDConnectAdapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist as error:
        raise Http404("No such sign-in provider.") from error
