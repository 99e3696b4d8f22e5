"""Errors a user caused with an organization (core.errors.UserError subclasses).

| exception        | code            | http_status |
|------------------|-----------------|-------------|
| OrgNotFound      | not_found       | 404         |
| LastPresident    | last_president  | 409         |
| OrgConflict      | conflict        | 409         |
| OrgInvalid       | invalid         | 422         |

Refusals by role are events.errors.ActionForbidden (403) and NotAuthenticated (401), raised
by events.permissions, the one place that decides.
"""

from core.errors import UserError


class OrgError(UserError):
    code = "org_error"
    http_status = 409


class OrgNotFound(OrgError):
    code = "not_found"
    http_status = 404
    default_message = "There is no such organization."


class LastPresident(OrgError):
    code = "last_president"
    default_message = (
        "An organization always keeps at least one president: name the next president "
        "(hand over) before stepping down."
    )


class OrgConflict(OrgError):
    code = "conflict"


class OrgInvalid(OrgError):
    code = "invalid"
    http_status = 422
    default_message = "Some input is not valid."

    def __init__(self, fields: dict[str, list[str]], message: str | None = None) -> None:
        super().__init__(message)
        self.fields = fields
