"""Single sign-on with the campus account (WUSTL Key): allauth's provider settings.

Built here, not inline in base.py, so tests that start a stand-in identity provider on a free
port build exactly the configuration production gets from the environment.
"""

from typing import Any

# The one stable slug of the campus identity provider: it names the SAML URLs
# (/accounts/saml/wustl/metadata/, …/acs/, …/sls/) and the OIDC ones (/accounts/oidc/wustl/…).
SSO_SLUG = "wustl"
SSO_NAME = "WUSTL Key"

# eduPersonAffiliation (SAML), or the `affiliation` claim (OIDC).
SAML_AFFILIATION_ATTRIBUTE = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"


def oidc_app(*, issuer: str, client_id: str, client_secret: str) -> dict[str, Any]:
    return {
        "provider_id": SSO_SLUG,
        "name": SSO_NAME,
        "client_id": client_id,
        "secret": client_secret,
        "settings": {
            "server_url": issuer,
            # Only the ID token, whose signature users.sso_oidc checks, says who signed in;
            # a userinfo answer is not signed and would take precedence in allauth.
            "fetch_userinfo": False,
            "token_auth_method": "client_secret_post",
        },
    }


def saml_app(
    *,
    idp_entity_id: str,
    idp_sso_url: str,
    idp_x509_cert: str,
    idp_slo_url: str = "",
    idp_metadata_url: str = "",
    sp_entity_id: str = "",
    sp_x509_cert: str = "",
    sp_private_key: str = "",
    want_messages_signed: bool = False,
) -> dict[str, Any]:
    idp: dict[str, Any] = {"entity_id": idp_entity_id}
    if idp_metadata_url:
        idp["metadata_url"] = idp_metadata_url
    else:
        idp.update(sso_url=idp_sso_url, x509cert=idp_x509_cert)
        if idp_slo_url:
            idp["slo_url"] = idp_slo_url
    signing = bool(sp_x509_cert and sp_private_key)
    advanced: dict[str, Any] = {
        "strict": True,
        # An unsigned assertion is refused even inside a signed response envelope.
        "want_assertion_signed": True,
        "want_message_signed": want_messages_signed,
        "authn_request_signed": signing,
        "logout_request_signed": signing,
        "logout_response_signed": signing,
        "reject_idp_initiated_sso": True,
        "reject_deprecated_algorithm": True,
        "allow_single_label_domains": False,
    }
    if signing:
        advanced.update(x509cert=sp_x509_cert, private_key=sp_private_key)
    return {
        "client_id": SSO_SLUG,
        "name": SSO_NAME,
        "settings": {
            "idp": idp,
            "sp": {"entity_id": sp_entity_id} if sp_entity_id else {},
            "advanced": advanced,
            "attribute_mapping": {
                "uid": ["urn:oasis:names:tc:SAML:attribute:subject-id", "uid"],
                "email": ["urn:oid:0.9.2342.19200300.100.1.3", "mail", "email"],
                "first_name": ["urn:oid:2.5.4.42", "givenName"],
                "last_name": ["urn:oid:2.5.4.4", "sn"],
                "name": ["urn:oid:2.16.840.1.113730.3.1.241", "displayName"],
            },
        },
    }


def socialaccount_providers(
    *, oidc: dict[str, Any] | None, saml: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "openid_connect": {"APPS": [oidc] if oidc else [], "OAUTH_PKCE_ENABLED": True},
        "saml": {"APPS": [saml] if saml else []},
    }


def origin(url: str) -> str | None:
    """`https://idp.wustl.edu` of `https://idp.wustl.edu/path`, for the CSP's form-action."""
    if not url.startswith(("http://", "https://")):
        return None
    return "/".join(url.split("/")[:3])
