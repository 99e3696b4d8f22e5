"""Errors: the base class of every error a user caused, the one JSON error body, and the
error pages that work while the database is down.

`UserError` subclasses (registration rules, bad search input, account requests) carry a
message a person can act on, a machine `code`, the HTTP status to answer and field errors.
Pages turn them into form errors or 4xx pages; the API has one exception handler for them
(core.api). Every JSON error, whatever produced it, is `error_body(...)`:
`{"error": {"code", "message", "fields"}}`.

`server_error` is Django's handler500: it runs inside the `except` block of the request that
failed, so it can tell a database outage (a friendly 503, "try again in a minute") from a bug
(the 500 page). Neither page touches the database, the session or the user.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from .request_id import current_request_id

# Raised when PostgreSQL (or PgBouncer) cannot be reached or drops the connection.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


UNAVAILABLE_MESSAGE = "The service is briefly unavailable. Please try again in a minute."


class UserError(Exception):
    """A request that cannot be carried out for a reason its user can read and act on."""

    code = "invalid"
    http_status = 400
    default_message = "This request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        # Field name (or "__all__") -> messages, for a form or the API's 422.
        self.fields: dict[str, list[str]] = {}
        super().__init__(self.message)


def error_body(
    *, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, dict[str, object]]:
    """The one JSON error shape of the API, the rate limits and the error pages."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_json(
    *, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    return JsonResponse(error_body(code=code, message=message, fields=fields), status=status)


def database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_UNAVAILABLE)


def _page(template_name: str, status: int) -> HttpResponse:
    content = loader.get_template(template_name).render({"request_id": current_request_id()})
    response = HttpResponse(content, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    api = request.path.startswith("/api/")
    if database_unavailable(exc):
        if api:
            response: HttpResponse = error_json(
                status=503, code="unavailable", message=UNAVAILABLE_MESSAGE
            )
        else:
            response = _page("503.html", 503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "private, no-store"
        return response
    if api:
        return error_json(
            status=500, code="server_error", message="Something went wrong on our side."
        )
    return _page("500.html", 500)
