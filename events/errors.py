"""Errors a user caused, for events and registrations (core.errors.UserError subclasses).

Every error has a user-facing `message`, a machine `code` and the HTTP status to answer
with (`http_status`); views map them to form errors or 4xx pages, the API's one handler to
its error body, and none becomes a 500.

| exception               | code                      | http_status |
|-------------------------|---------------------------|-------------|
| EventNotFound           | not_found                 | 404         |
| EventCancelled          | event_cancelled           | 409         |
| EventClosed             | event_closed              | 409         |
| RegistrationNotOpenYet  | registration_not_open_yet | 409         |
| RegistrationNotNeeded   | registration_not_needed   | 409         |
| CancellationClosed      | cancellation_closed       | 409         |
| NotRegistered           | not_registered            | 404         |
| AlreadyCheckedIn        | already_checked_in        | 409         |
| NotEligible             | not_eligible              | 403         |
| EmailUnverified         | email_unverified          | 403         |
| RegistrationBusy        | busy                      | 503         |
| NotAuthenticated        | not_authenticated         | 401         |
| ActionForbidden         | forbidden                 | 403         |
| EventStateConflict      | invalid_state             | 409         |
| OrganizerNotAttendee    | organizer_not_attendee    | 403         |
| TicketInvalid           | ticket_invalid            | 404         |
| CheckInClosed           | check_in_closed           | 409         |
| SeatReleased            | seat_released             | 409         |
| EventFull               | event_full                | 409         |
| NoAccount               | no_account                | 404         |
| CheckInCodeInvalid      | code_invalid              | 422         |
| CheckInCodeExpired      | code_expired              | 422         |
| CheckInCodeOtherEvent   | code_other_event          | 422         |
| LocationRequired        | location_required         | 422         |
| TooFarAway              | too_far                   | 403         |
| MessageRateLimited      | rate_limited              | 429         |
| EventInvalid            | invalid                   | 422         |
"""

from core.errors import UserError


class RegistrationError(UserError):
    """An event or registration request that cannot be carried out, for a reason the user can
    read."""

    code = "registration_error"
    http_status = 409
    default_message = "This registration could not be completed."


class EventNotFound(RegistrationError):
    # Drafts answer like missing events: they are private to their organizer.
    code = "not_found"
    http_status = 404
    default_message = "There is no such event."


class EventNotOpen(RegistrationError):
    """The event exists but does not take registrations or cancellations any more."""


class EventCancelled(EventNotOpen):
    code = "event_cancelled"
    default_message = "This event was cancelled."


class EventClosed(EventNotOpen):
    code = "event_closed"
    default_message = "This event has already started; registration is closed."


class RegistrationNotOpenYet(EventNotOpen):
    code = "registration_not_open_yet"
    default_message = "Registration for this event has not opened yet."


class RegistrationNotNeeded(EventNotOpen):
    code = "registration_not_needed"
    default_message = (
        "This event needs no registration: just come, and check in at the door with the "
        "event code for your E-score."
    )


class CancellationClosed(EventNotOpen):
    code = "cancellation_closed"
    default_message = "The deadline for cancelling this registration has passed."


class NotRegistered(RegistrationError):
    code = "not_registered"
    http_status = 404
    default_message = "You are not registered for this event."


class AlreadyCheckedIn(RegistrationError):
    code = "already_checked_in"
    default_message = "You have already been checked in, so this registration cannot be cancelled."


class NotEligible(RegistrationError):
    code = "not_eligible"
    http_status = 403
    default_message = "Your account cannot register for events."


class RegistrationBusy(RegistrationError):
    code = "busy"
    http_status = 503
    default_message = "Many students are registering for this event right now. Please try again."


class EmailUnverified(NotEligible):
    code = "email_unverified"
    default_message = (
        "Confirm your school e-mail address before registering, with a code we e-mail to it: "
        "ask for one on the page this takes you to, or on your account's e-mail page."
    )


class NotAuthenticated(RegistrationError):
    code = "not_authenticated"
    http_status = 401
    default_message = "Log in to do this."


class ActionForbidden(RegistrationError):
    code = "forbidden"
    http_status = 403
    default_message = "Only this event's organizers and staff can do this."


class EventStateConflict(RegistrationError):
    """The action does not fit the event's state: publishing a cancelled event, and so on."""

    code = "invalid_state"


class OrganizerNotAttendee(EventStateConflict):
    """Checking an event's organizer in to their own event: organizing earns its own award."""

    code = "organizer_not_attendee"
    http_status = 403
    default_message = (
        "The event's organizer cannot be checked in to their own event: organizing earns the "
        "organizer award instead."
    )


class TicketInvalid(RegistrationError):
    code = "ticket_invalid"
    http_status = 404
    default_message = (
        "This ticket is not valid: it was mistyped, forged, or the registration was cancelled."
    )


class CheckInClosed(RegistrationError):
    code = "check_in_closed"


class SeatReleased(EventStateConflict):
    """The student's seat went to the waitlist: they had not checked in by the start + grace."""

    code = "seat_released"
    default_message = "This seat was released to the waitlist: the student had not checked in."


class EventFull(RegistrationError):
    """A walk-in, when every seat is taken and the organizer did not allow more."""

    code = "event_full"
    default_message = "Every seat is taken."


class NoAccount(RegistrationError):
    """A walk-in's address has no E-Ren account; nobody makes one on another's behalf."""

    code = "no_account"
    http_status = 404
    default_message = "There is no E-Ren account with this address."


class CheckInCodeInvalid(RegistrationError):
    code = "code_invalid"
    http_status = 422
    default_message = (
        "This code is not valid: check the six characters on the screen at the door and try again."
    )


class CheckInCodeExpired(CheckInCodeInvalid):
    code = "code_expired"
    default_message = (
        "This code has expired: the code at the door changes every 30 seconds. Enter the one "
        "on the screen now, or scan its QR code."
    )


class CheckInCodeOtherEvent(CheckInCodeInvalid):
    code = "code_other_event"
    default_message = "This code belongs to another event."


class LocationRequired(RegistrationError):
    code = "location_required"
    http_status = 422
    default_message = (
        "This event checks that you are in the room: allow this page to use your location "
        "and try again. It is used for this check only and never stored."
    )


class TooFarAway(RegistrationError):
    code = "too_far"
    http_status = 403
    default_message = "You seem to be too far from the event's place to check in."


class MessageRateLimited(RegistrationError):
    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str | None = None, *, retry_after: int = 3600) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class EventInvalid(RegistrationError):
    """Field errors in an event's data, keyed by field name, for a form or the API's 422."""

    code = "invalid"
    http_status = 422
    default_message = "Some input is not valid."

    def __init__(self, fields: dict[str, list[str]], message: str | None = None) -> None:
        super().__init__(message)
        self.fields = fields
