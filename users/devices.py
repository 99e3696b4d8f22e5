"""Browsers that have signed in to an account before, for the failed-login limit.

After each successful login the browser gets a signed cookie naming the account (by an HMAC
of its canonical address, not the address itself) and a random id. Failed logins are
counted per account only for browsers without such a cookie; a browser with one counts on
its own. Someone who fails on purpose to lock a student out locks out only browsers that
never signed in to that account; the student's own laptop still gets in with the right
password, and a stolen cookie buys no more guesses than any other browser. This is OWASP's
"device cookie" defence against online guessing.

`login_attempts_key` is the key allauth's `login_failed` limit counts under (see
users.adapter); a password reset clears the key of the browser it was made in.
"""

import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import salted_hmac

from .addresses import email_canonical

COOKIE_NAME = "eren_device"
COOKIE_MAX_AGE = 60 * 60 * 24 * 180  # half a year: a known browser stays known a term or two
_SALT = "users.devices"


def _account_tag(address: str) -> str:
    return salted_hmac(_SALT, email_canonical(address)).hexdigest()[:32]


def known_device_id(request: HttpRequest, address: str) -> str | None:
    """The id of this browser when it signed in to the account before, else None."""
    cookie = request.COOKIES.get(COOKIE_NAME)
    if not cookie:
        return None
    try:
        value = signing.loads(cookie, salt=_SALT, max_age=COOKIE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or value.get("account") != _account_tag(address):
        return None
    device = value.get("device")
    return device if isinstance(device, str) else None


def login_attempts_key(request: HttpRequest, address: str) -> str:
    canonical = email_canonical(address)
    device = known_device_id(request, canonical)
    return f"{canonical}:device:{device}" if device else canonical


def remember_device(request: HttpRequest, response: HttpResponseBase, address: str) -> None:
    """Mark the browser as having signed in to the account (keeping its id if it had one)."""
    device = known_device_id(request, address) or secrets.token_urlsafe(16)
    value = signing.dumps({"account": _account_tag(address), "device": device}, salt=_SALT)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
