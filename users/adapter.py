"""allauth hooks: sign-up and new addresses are limited to the school's e-mail domains, and
every address a form takes is used in its canonical form (users.addresses)."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.ratelimits import client_ip

from . import devices, sso_logout
from .addresses import email_canonical
from .school_email import school_email_domains_display, school_email_is_allowed


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        """Used by allauth for sign-up, changing the address and password resets alike.

        The address as typed must be a school address, in ASCII (a look-alike that only
        normalisation would turn into one is refused); the canonical form is what is kept.
        """
        email = super().clean_email(email).strip()
        if not school_email_is_allowed(email):
            raise forms.ValidationError(
                f"E-Ren is for the WashU community: use your school address "
                f"({school_email_domains_display()}).",
                code="email_domain_not_allowed",
            )
        return email_canonical(email)

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """E-mail sign-up, for people single sign-on does not cover (SSO_EMAIL_SIGNUP_OPEN)."""
        return bool(settings.SSO_EMAIL_SIGNUP_OPEN)

    def get_logout_redirect_url(self, request: HttpRequest) -> str:
        """After a WUSTL Key sign-in, signing out goes on to the IdP's single logout where it
        offers one (users.sso_logout), which then returns to the site."""
        return sso_logout.sso_logout_url(request) or super().get_logout_redirect_url(request)

    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's per-IP limits key on the same client address as core.ratelimits."""
        return client_ip(request)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The key allauth's failed-login limit counts under: the canonical address, or the
        address and this browser when it signed in to the account before (users.devices).
        allauth uses it both to count and to clear the count after a password reset."""
        return devices.login_attempts_key(request, credentials.get("email", ""))

    def post_login(self, request: HttpRequest, user, **kwargs: Any) -> HttpResponse:
        response = super().post_login(request, user, **kwargs)
        devices.remember_device(request, response, user.email)
        return response
