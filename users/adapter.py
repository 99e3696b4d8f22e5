"""allauth hooks: sign-up and new addresses are limited to the school's e-mail domains."""

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.http import HttpRequest

from core.ratelimits import client_ip

from .school_email import school_email_domains_display, school_email_is_allowed


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        """Used by allauth for sign-up and for changing the address alike."""
        email = super().clean_email(email).strip()
        if not school_email_is_allowed(email):
            raise forms.ValidationError(
                f"E-Ren is for the WashU community: use your school address "
                f"({school_email_domains_display()}).",
                code="email_domain_not_allowed",
            )
        return email

    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's remaining limits key on the same address as core.ratelimits."""
        return client_ip(request)
