"""A request id in every log line, in the response and on error pages.

The id comes from the ALB (`X-Amzn-Trace-Id`, or an `X-Request-ID` a proxy in front set)
or is made here, so a student who quotes it from an error page leads to their log lines.
"""

import logging
import re
import uuid
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_NO_REQUEST = "-"
_current: ContextVar[str] = ContextVar("request_id", default=_NO_REQUEST)
# Only ids that are safe to echo into a header, a log line and a page.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:;=+/-]{8,200}$")


def current_request_id() -> str:
    """The id of the request this thread is serving, or "-" outside a request."""
    return _current.get()


def request_id_from(request: HttpRequest) -> str:
    for header in ("HTTP_X_REQUEST_ID", "HTTP_X_AMZN_TRACE_ID"):
        candidate = request.META.get(header, "").strip()
        if _ACCEPTABLE.match(candidate):
            return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in the chain, so every later middleware's log lines carry the id too."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (plain and JSON formats both print it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True
