"""The one "Sign in with WUSTL Key" button: which protocol it starts (SSO_PREFERRED)."""

from django import template
from django.conf import settings
from django.urls import reverse

from eren.settings.sso import SSO_SLUG

register = template.Library()


def _enabled(provider: str) -> bool:
    return bool(settings.SOCIALACCOUNT_PROVIDERS.get(provider, {}).get("APPS"))


@register.simple_tag
def sso_login_url() -> str:
    """The sign-in URL of the preferred configured protocol, or "" when SSO is off."""
    oidc = reverse("openid_connect_login", kwargs={"provider_id": SSO_SLUG})
    saml = reverse("saml_login", kwargs={"organization_slug": SSO_SLUG})
    choices = {
        "oidc": oidc if _enabled("openid_connect") else "",
        "saml": saml if _enabled("saml") else "",
    }
    preferred = choices.get(settings.SSO_PREFERRED, "")
    return preferred or choices["oidc"] or choices["saml"]


@register.simple_tag
def email_signup_open() -> bool:
    return bool(settings.SSO_EMAIL_SIGNUP_OPEN)
