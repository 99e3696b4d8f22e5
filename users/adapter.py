"""allauth hooks: sign-up and new addresses are limited to the school's e-mail domains, and
every address a form takes is used in its canonical form (users.addresses)."""

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.http import HttpRequest

from core.ratelimits import client_ip

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

    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's remaining limits key on the same address as core.ratelimits."""
        return client_ip(request)
