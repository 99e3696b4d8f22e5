"""Rate limits: which requests count against which limit, and what an over-limit request gets.

The site's limits live in settings.RATELIMITS (each overridable by environment); the
counters are django-ratelimit's, in the "ratelimit" cache (Redis). One middleware applies
them by URL name:

| limit                  | counts                                             | key        |
|------------------------|----------------------------------------------------|------------|
| registration_user      | register and cancel, pages and API                 | user       |
| check_in_code_user     | self check-in codes sent, page and API             | user       |
| search_ip              | the search page, suggestions, GET /api/v1/events,  | client IP  |
|                        | saved-search calendar feeds                        |            |
| saved_search_user      | saving a search                                    | user       |
| dispute_user           | filing an E-score dispute                          | user       |
| api_user               | every /api/v1/ request                             | user or IP |

Accounts (login, failed logins, sign-up, password reset) are limited by allauth itself
(settings.ACCOUNT_RATE_LIMITS), which knows whether a login failed and answers in the form;
the admin has no login of its own (staff sign in through allauth). Over allauth's per-IP
limits, `allauth_too_many_requests` (the URLconf's handler429) answers as ours do.

Over a limit: 429 with Retry-After, a page for HTML and the API's error shape for JSON.
Redis down: the account views refuse POSTs (503, "try again shortly"), since their limits
are what stands between a password list and the accounts; every other limit lets the
request through, and says so in the log at most once a minute.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage
from django_redis import get_redis_connection

from .errors import error_json

logger = logging.getLogger(__name__)

UNAVAILABLE_RETRY_AFTER = 30


_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}
_PERIOD_WORDS = {1: "a second", 60: "a minute", 60 * 60: "an hour", 24 * 60 * 60: "a day"}


def rate_parse(rate: str) -> tuple[int, int]:
    """ "3/h" → (3, 3600); the syntax of settings.RATELIMITS (django-ratelimit's)."""
    count, _, period = rate.partition("/")
    multiple, unit = period[:-1], period[-1:]
    return int(count), int(multiple or 1) * _PERIOD_SECONDS[unit]


def rate_describe(rate: str) -> str:
    """ "3/h" → "3 times an hour", for messages to the people who hit it."""
    count, seconds = rate_parse(rate)
    times = "once" if count == 1 else f"{count} times"
    return f"{times} " + _PERIOD_WORDS.get(seconds, f"in {seconds} seconds")


def client_ip(request: HttpRequest) -> str:
    """The client's address: X-Forwarded-For read from the right, trusting
    settings.TRUSTED_PROXY_COUNT proxies and nothing the client wrote itself."""
    remote_addr = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - a key, not a bind # nosec B104
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted <= 0 or not forwarded:
        return remote_addr
    hops = [hop.strip() for hop in forwarded.split(",")]
    if len(hops) < trusted:
        # Fewer hops than proxies: this request did not come through them (a probe inside
        # the cluster), so the header is not the proxies' to trust.
        return remote_addr
    candidate = hops[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


def _user_key(group: str, request: HttpRequest) -> str:
    return str(request.user.pk)


def _user_or_ip_key(group: str, request: HttpRequest) -> str:
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{client_ip(request)}"


@dataclass(frozen=True)
class Limit:
    name: str  # a key of settings.RATELIMITS
    key: str | Callable[[str, HttpRequest], str]
    methods: tuple[str, ...]
    # Only when someone is logged in (an anonymous register POST is a login redirect).
    authenticated_only: bool = False


REGISTRATION = (Limit("registration_user", _user_key, ("POST", "DELETE"), authenticated_only=True),)
CHECK_IN_CODE = (Limit("check_in_code_user", _user_key, ("POST",), authenticated_only=True),)
SEARCH = (Limit("search_ip", "ip", ("GET", "HEAD")),)
DISPUTE = (Limit("dispute_user", _user_key, ("POST",), authenticated_only=True),)
SAVED_SEARCH = (Limit("saved_search_user", _user_key, ("POST",), authenticated_only=True),)
API = Limit("api_user", _user_or_ip_key, ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"))

# URL names (as `request.resolver_match.view_name`) and the limits their requests count against.
LIMITS_BY_VIEW: dict[str, tuple[Limit, ...]] = {
    "events:register": REGISTRATION,
    "events:cancel": REGISTRATION,
    "api-v1:registration_create": REGISTRATION,
    "events:self-check-in": CHECK_IN_CODE,
    # GET (the organizer's code) and POST (a student's) share a path and so a URL name.
    "api-v1:code_show": CHECK_IN_CODE,
    "api-v1:code_present": CHECK_IN_CODE,
    "events:search": SEARCH,
    "events:suggest": SEARCH,
    "api-v1:event_list": SEARCH,
    # A saved search's feed runs the search: counted as one, per client IP.
    "events:saved-search-feed": SEARCH,
    "events:saved-search-create": SAVED_SEARCH,
    "escore:dispute-create": DISPUTE,
    # The API's list and create share a path and so a URL name; only their POSTs count.
    "api-v1:saved_search_list": SAVED_SEARCH,
    "api-v1:saved_search_create": SAVED_SEARCH,
    "api-v1:my_disputes": DISPUTE,
    "api-v1:dispute_create": DISPUTE,
}
API_NAMESPACE = "api-v1"
JSON_VIEWS = {"events:suggest"}
# allauth's views whose POSTs its limits count (in the default cache): refused while Redis
# is unreachable, rather than served unlimited.
ACCOUNT_VIEWS = frozenset(
    {
        "account_login",
        "account_signup",
        "account_reset_password",
        "account_reset_password_from_key",
        "account_email_verification_sent",
        "account_reauthenticate",
        "mfa_authenticate",
        "mfa_reauthenticate",
    }
)


_last_outage_log = 0.0
_outage_log_lock = threading.Lock()
OUTAGE_LOG_INTERVAL = 60.0


def _log_outage(error: Exception) -> None:
    """Once a minute per process, however many requests find Redis down."""
    global _last_outage_log  # one timestamp per process, behind the lock
    now = time.monotonic()
    with _outage_log_lock:
        if now - _last_outage_log < OUTAGE_LOG_INTERVAL:
            return
        _last_outage_log = now
    logger.error(
        "Rate limiting is unavailable (%s: %s): reads are served without limits, logins are "
        "refused until the rate-limit cache answers again.",
        type(error).__name__,
        error,
    )


def account_counters_unavailable() -> bool:
    """True (and logged) when allauth's counters cannot be reached. allauth reads them
    through the default cache, which turns a Redis error into a miss, so ask Redis itself."""
    try:
        get_redis_connection("default").ping()
    except Exception as error:  # the client's connection and timeout errors
        _log_outage(error)
        return True
    return False


def limit_check(request: HttpRequest, limit: Limit) -> int | None:
    """Count this request; the seconds until it may be retried when over the limit, else None."""
    try:
        usage = get_usage(
            request,
            group=f"eren.{limit.name}",
            key=limit.key,
            rate=settings.RATELIMITS[limit.name],
            method=list(limit.methods),
            increment=True,
        )
    except Exception as error:  # the cache client's connection and timeout errors
        _log_outage(error)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return max(int(usage["time_left"]), 1)


def _wants_json(request: HttpRequest, view_name: str) -> bool:
    match = request.resolver_match
    return (match is not None and API_NAMESPACE in match.namespaces) or view_name in JSON_VIEWS


def too_many_requests(request: HttpRequest, *, retry_after: int, json: bool) -> HttpResponse:
    minutes = max(round(retry_after / 60), 1)
    wait = f"{retry_after} seconds" if retry_after < 90 else f"about {minutes} minutes"
    message = f"Too many requests. Please wait {wait} and try again."
    if json:
        response: HttpResponse = error_json(status=429, code="rate_limited", message=message)
    else:
        response = render(request, "429.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def allauth_too_many_requests(request: HttpRequest) -> HttpResponse:
    """allauth's answer over one of its per-IP limits (settings: the URLconf's handler429).
    allauth does not say when the window ends: a minute is the hint."""
    return too_many_requests(request, retry_after=60, json=False)


def limits_unavailable(request: HttpRequest, *, json: bool) -> HttpResponse:
    message = "Logging in is paused for a moment on our side. Please try again shortly."
    if json:
        response: HttpResponse = error_json(status=503, code="unavailable", message=message)
    else:
        response = render(request, "ratelimit_unavailable.html", {"message": message}, status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    return response


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not getattr(settings, "RATELIMIT_ENABLE", True):
            return None
        match = request.resolver_match
        if match is None:
            return None
        view_name = match.view_name
        json = _wants_json(request, view_name)
        if (
            view_name in ACCOUNT_VIEWS
            and request.method == "POST"
            and account_counters_unavailable()
        ):
            return limits_unavailable(request, json=json)
        limits = list(LIMITS_BY_VIEW.get(view_name, ()))
        if API_NAMESPACE in match.namespaces:
            limits.insert(0, API)
        retry_after = None
        for limit in limits:
            if request.method not in limit.methods:
                continue
            if limit.authenticated_only and not request.user.is_authenticated:
                continue
            wait = limit_check(request, limit)
            if wait is not None:
                logger.info("Rate limit %s reached on %s", limit.name, view_name)
                retry_after = max(retry_after or 0, wait)
        if retry_after is not None:
            return too_many_requests(request, retry_after=retry_after, json=json)
        return None
