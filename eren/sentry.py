"""Sentry error tracking: on only when SENTRY_DSN is set, and without personal data.

`send_default_pii=False` keeps cookies, headers with credentials, user ids and IPs out;
`scrub_event` also removes e-mail addresses wherever they appear in an event (a message
like "no user alice@wustl.edu", an exception value, form data, a breadcrumb's SQL), and the
tokens of check-in, calendar, reminder and reset URLs (core.redaction).
"""

import re
from typing import Any

from core.redaction import redact_tokens

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
REDACTED = "[email]"
# Keys of event["user"] that could name a person; the anonymous id is kept.
_USER_KEYS_KEPT = {"id"}


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact_tokens(EMAIL.sub(REDACTED, value))
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry's before_send (and before_send_transaction): the event without e-mail addresses."""
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {key: value for key, value in user.items() if key in _USER_KEYS_KEPT}
    return _scrub(event)


def _rate(value: str | None, default: float) -> float:
    try:
        rate = float(value) if value else default
    except ValueError:
        return default
    return min(max(rate, 0.0), 1.0)


def sentry_init(environ: dict[str, str]) -> bool:
    """Start the SDK from the environment; False (and nothing started) without a DSN."""
    dsn = environ.get("SENTRY_DSN", "").strip()
    if not dsn:
        return False

    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.redis import RedisIntegration

    release = (
        environ.get("SENTRY_RELEASE") or environ.get("DD_GIT_COMMIT_SHA") or environ.get("GIT_SHA")
    )
    sentry_sdk.init(
        dsn=dsn,
        environment=environ.get("DJANGO_ENV", "local"),
        release=release if release and release != "unknown" else None,
        sample_rate=_rate(environ.get("SENTRY_SAMPLE_RATE"), 1.0),
        traces_sample_rate=_rate(environ.get("SENTRY_TRACES_SAMPLE_RATE"), 0.0),
        profiles_sample_rate=_rate(environ.get("SENTRY_PROFILES_SAMPLE_RATE"), 0.0),
        send_default_pii=False,
        before_send=scrub_event,  # type: ignore[arg-type]
        before_send_transaction=scrub_event,  # type: ignore[arg-type]
        integrations=[DjangoIntegration(), CeleryIntegration(), RedisIntegration()],
    )
    return True
