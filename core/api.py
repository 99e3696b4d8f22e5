"""JSON API v1: one NinjaAPI, one error shape for every failure.

Every error answers `{"error": {"code": str, "message": str, "fields": {name: [messages]}}}`.
"""

import logging

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import field_validator

from .errors import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, UserError, error_body

logger = logging.getLogger(__name__)

# Answers any operation can give, documented on each one that does not say so itself:
# invalid input, rate limited, database unavailable; 401/403 where a session is needed and
# 404 where the path names something.
_ERRORS_EVERYWHERE = {
    422: "Some input is not valid.",
    429: "Too many requests.",
    503: "Briefly unavailable; try again.",
}
_ERRORS_WITH_AUTH = {401: "Log in to do this.", 403: "You are not allowed to do this."}
_ERRORS_WITH_PATH = {404: "Not found."}


class ErenAPI(NinjaAPI):
    """A NinjaAPI whose schema documents the error shape on every answer it can give."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        error_ref = {"$ref": "#/components/schemas/ApiError"}
        schema.setdefault("components", {}).setdefault("schemas", {})["ApiError"] = {
            "type": "object",
            "title": "ApiError",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "fields"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                }
            },
        }
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                errors = dict(_ERRORS_EVERYWHERE)
                if operation.get("security"):
                    errors.update(_ERRORS_WITH_AUTH)
                if "{" in path:
                    errors.update(_ERRORS_WITH_PATH)
                responses = operation.setdefault("responses", {})
                for status, description in errors.items():
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": error_ref}},
                        },
                    )
        return schema


class InputSchema(Schema):
    """The base of every request body: text with a NUL character is refused with a 422.

    PostgreSQL cannot store NUL in text, and no person types one; forms refuse it the same way
    (Django's ProhibitNullCharactersValidator), so the API must too, before a service runs.
    """

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Text may not contain NUL (\\x00) characters.")
        return value


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class ErrorOut(Schema):
    error: ErrorBody


ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
    # core.ratelimits answers before the view: 600 a minute per user, registrations and searches.
    429: ErrorOut,
    503: ErrorOut,
}


api = ErenAPI(
    title="E-Ren API",
    version="1",
    description=(
        "Events, search and registration for WashU's campus event platform. Browsers use "
        "session authentication: log in on the site, then send the `csrftoken` cookie's "
        "value in an `X-CSRFToken` header on POST and DELETE. Every error has the shape "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    urls_namespace="api-v1",
)


DEFAULT_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    return api.create_response(
        request, error_body(code=code, message=message, fields=fields), status=status
    )


def _location_to_field(location: list) -> str:
    # Ninja reports ["query", "page"] or ["body", "payload", "capacity"]: keep the name.
    parts = [str(part) for part in location if part not in {"query", "body", "path", "payload"}]
    return ".".join(parts) or "__all__"


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        fields.setdefault(_location_to_field(list(error.get("loc", []))), []).append(error["msg"])
    return error_response(
        request, status=422, code="invalid", message="Some input is not valid.", fields=fields
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    return error_response(
        request, status=401, code="not_authenticated", message="Log in to do this."
    )


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return error_response(
        request,
        status=403,
        code="forbidden",
        message=str(exc) or "You are not allowed to do this.",
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, status=404, code="not_found", message=str(exc) or "Not found.")


@api.exception_handler(UserError)
def on_user_error(request, exc: UserError):
    """The one answer to every error a user caused, whichever app raised it."""
    return error_response(
        request, status=exc.http_status, code=exc.code, message=exc.message, fields=exc.fields
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return error_response(
        request,
        status=exc.status_code,
        code=DEFAULT_CODES.get(exc.status_code, "error"),
        message=str(exc),
    )


def on_unreadable_body(request, exc):
    # Django answers these with 400 outside the API (a multipart body without a boundary, too
    # many fields, a body over DATA_UPLOAD_MAX_MEMORY_SIZE); here they would reach the catch-all.
    # RawPostDataException: a form body, already read by the CSRF check, where JSON belongs.
    return error_response(
        request,
        status=400,
        code="bad_request",
        message="The request body could not be read: send JSON with Content-Type "
        "application/json, or no body where none is expected.",
    )


api.add_exception_handler(MultiPartParserError, on_unreadable_body)
api.add_exception_handler(RawPostDataException, on_unreadable_body)
api.add_exception_handler(BadRequest, on_unreadable_body)
api.add_exception_handler(SuspiciousOperation, on_unreadable_body)


def on_database_unavailable(request, exc):
    # PostgreSQL or PgBouncer is unreachable: a retryable 503, not a bug report.
    logger.error("Database unavailable: %s", type(exc).__name__)
    response = error_response(
        request,
        status=503,
        code="unavailable",
        message=UNAVAILABLE_MESSAGE,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


api.add_exception_handler(OperationalError, on_database_unavailable)
api.add_exception_handler(InterfaceError, on_database_unavailable)


@api.exception_handler(Exception)
def on_unexpected_error(request, exc):
    # Logged with the traceback (and sent to Sentry when configured); the client gets the shape.
    logger.exception("Unhandled API error")
    return error_response(
        request, status=500, code="server_error", message="Something went wrong on our side."
    )
