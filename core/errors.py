"""Error pages that work while the database is down, each showing the request id.

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


def database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_UNAVAILABLE)


def unavailable_api_body() -> dict:
    return {
        "error": {
            "code": "unavailable",
            "message": "The service is briefly unavailable. Please try again in a minute.",
            "fields": {},
        }
    }


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
            response = JsonResponse(unavailable_api_body(), status=503)
        else:
            response = _page("503.html", 503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "private, no-store"
        return response
    if api:
        body = {
            "error": {
                "code": "server_error",
                "message": "Something went wrong on our side.",
                "fields": {},
            }
        }
        return JsonResponse(body, status=500)
    return _page("500.html", 500)
