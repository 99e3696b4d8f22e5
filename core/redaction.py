"""Secrets that travel in URLs, kept out of logs, traces and error reports.

Some links are their own credential: a ticket's check-in link, a calendar feed (the
student's or a saved search's), the "no more reminders" and "no more saved-search e-mails"
links, a password-reset link. (E-mail addresses are confirmed with a code
typed into a form, which travels in a POST body, never a URL.) Their tokens
would otherwise be written wherever a URL is: gunicorn's access log (the request line, the
Referer), Django's request log ("Not Found: /calendar/…"), Datadog traces (`http.url`), Sentry
events. `redact_tokens` replaces each token with `[token]`, in raw paths and in paths
percent-encoded inside a query string (`?next=%2Fcheck-in%2F…`).

tests/core/test_redaction.py reverses every such URL name, so a route that moves is noticed.
This module imports nothing from Django or ddtrace: gunicorn's master process uses it too.
"""

import re

REDACTED = "[token]"
_SLASH = r"(?:/|%2[Ff])"
# A token runs to the next path separator, query, fragment, quote or space.
_TOKEN = r"[^/?&#\s\"'<>]+?(?=%2[Ff]|[/?&#\s\"'<>]|$)"  # noqa: S105 - a pattern
_TOKEN_PATHS = re.compile(
    rf"({_SLASH}(?:check-in|reminders-off|searches{_SLASH}email-off"
    rf"|password{_SLASH}reset{_SLASH}key){_SLASH})"
    rf"{_TOKEN}"
)
# The student's feed (/calendar/<token>.ics) and a saved search's (/calendar/searches/…).
_CALENDAR_FEED = re.compile(
    rf"({_SLASH}calendar{_SLASH}(?:searches{_SLASH})?)[^/?&#\s\"'<>]+?(\.ics)"
)


def redact_tokens(text: str) -> str:
    text = _TOKEN_PATHS.sub(rf"\g<1>{REDACTED}", text)
    return _CALENDAR_FEED.sub(rf"\g<1>{REDACTED}\g<2>", text)
