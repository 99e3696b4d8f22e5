"""Writes for events, one module per workflow; this package re-exports their public names.

| module          | holds                                                              |
|-----------------|--------------------------------------------------------------------|
| locking         | the event row lock and the seat counters every write goes through  |
| registration    | who may register; register, cancel, forget (account closing)       |
| waitlist        | first come, first served promotion, and the e-mail it queues       |
| organizing      | create, edit, publish, unpublish, place on the map, cancel         |
| check_in        | check-in by ticket or roster, its undo, the E-score sync it queues |
| messages        | organizer e-mails to confirmed students, limited per event         |

Errors the user caused are the classes in `events.errors`, re-exported here too.
"""

from events.errors import (
    ActionForbidden,
    AlreadyCheckedIn,
    CheckInClosed,
    EmailUnverified,
    EventCancelled,
    EventClosed,
    EventInvalid,
    EventNotFound,
    EventNotOpen,
    EventStateConflict,
    MessageRateLimited,
    NotAuthenticated,
    NotEligible,
    NotRegistered,
    RegistrationBusy,
    RegistrationError,
    TicketInvalid,
)

from .check_in import (
    CheckInOutcome,
    registration_check_in,
    registration_check_in_by_ticket,
    registration_check_in_undo,
)
from .messages import organizer_message_send
from .organizing import (
    CANCELLATION_REASON_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    EVENT_EDITABLE_FIELDS,
    event_cancel,
    event_create,
    event_geocode_enqueue,
    event_place,
    event_publish,
    event_unpublish,
    event_update,
)
from .registration import (
    registration_cancel,
    registration_check_eligibility,
    registration_create,
    registration_forget,
)

__all__ = [
    "CANCELLATION_REASON_MAX_LENGTH",
    "DESCRIPTION_MAX_LENGTH",
    "EVENT_EDITABLE_FIELDS",
    "ActionForbidden",
    "AlreadyCheckedIn",
    "CheckInClosed",
    "CheckInOutcome",
    "EmailUnverified",
    "EventCancelled",
    "EventClosed",
    "EventInvalid",
    "EventNotFound",
    "EventNotOpen",
    "EventStateConflict",
    "MessageRateLimited",
    "NotAuthenticated",
    "NotEligible",
    "NotRegistered",
    "RegistrationBusy",
    "RegistrationError",
    "TicketInvalid",
    "event_cancel",
    "event_create",
    "event_geocode_enqueue",
    "event_place",
    "event_publish",
    "event_unpublish",
    "event_update",
    "organizer_message_send",
    "registration_cancel",
    "registration_check_eligibility",
    "registration_check_in",
    "registration_check_in_by_ticket",
    "registration_check_in_undo",
    "registration_create",
    "registration_forget",
]
