"""Staff must use a second factor (ASVS 2.2, 4.3.1): allauth.mfa provides it, this enforces it.

A staff account acts only from a session that passed a second factor. Until the account has
an authenticator app or a security key, every page but the account and MFA pages sends it to
set one up; once it has one, a session that signed in without it (one from before the setup,
or logged in by a path that skipped it) is asked to confirm with it. The API answers 403
`mfa_required` instead of redirecting. Logging in runs allauth's MFA stage for every account
that has a factor, and the admin has no login of its own (eren/urls.py), so in practice the
redirects are a one-time setup; they are also the guard should another login path appear.
"""

from collections.abc import Callable
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from core.errors import error_json

FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
# Pages a staff account may open before it has passed a second factor: setting one up,
# confirming with it, and the account pages (password, addresses, logging out).
_OPEN_PREFIXES = ("mfa_", "account_")


def user_has_second_factor(user) -> bool:
    return Authenticator.objects.filter(user=user, type__in=FACTORS).exists()


def session_passed_second_factor(request: HttpRequest) -> bool:
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


class StaffMfaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_staff):
            return None
        match = request.resolver_match
        view_name = match.view_name if match else ""
        if view_name.startswith(_OPEN_PREFIXES) or session_passed_second_factor(request):
            return None
        has_factor = user_has_second_factor(user)
        message = (
            "Staff accounts need a second factor: confirm it's you with yours."
            if has_factor
            else "Staff accounts need a second factor: set up an authenticator app or a "
            "security key to continue."
        )
        if request.path.startswith("/api/"):
            return error_json(status=403, code="mfa_required", message=message)
        messages.warning(request, message)
        target = reverse("mfa_reauthenticate" if has_factor else "mfa_index")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
