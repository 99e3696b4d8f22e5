"""Writes for events, one module per workflow; this package re-exports their public names.

| module          | holds                                                              |
|-----------------|--------------------------------------------------------------------|
| locking         | the event row lock and the seat counters every write goes through  |
| registration    | who may register; register, cancel, forget (account closing)       |
| waitlist        | first come, first served promotion, and the e-mail it queues       |
| organizing      | create, edit, publish, unpublish, reassign, place, cancel          |
| check_in        | check-in by ticket, roster, walk-in or event code; undo; E-score   |
| no_shows        | seats of students not checked in by start + grace to the waitlist  |
| messages        | organizer e-mails to confirmed students, limited per event         |
| questions       | the organizer's registration questions; checking and saving answers|
| series          | recurring events: occurrences from a rule; edit/publish following  |
| covers          | the cover image (checked and encoded in events.images)             |
| recommendations | "not interested" in a recommended event, and its undo             |

Errors the user caused are the classes in `events.errors`, re-exported here too.
"""

from events.errors import (
    ActionForbidden,
    AlreadyCheckedIn,
    CancellationClosed,
    CheckInClosed,
    CheckInCodeExpired,
    CheckInCodeInvalid,
    CheckInCodeOtherEvent,
    EmailUnverified,
    EventCancelled,
    EventClosed,
    EventFull,
    EventInvalid,
    EventNotFound,
    EventNotOpen,
    EventStateConflict,
    LocationRequired,
    MessageRateLimited,
    NoAccount,
    NotAuthenticated,
    NotEligible,
    NotRegistered,
    OrganizerNotAttendee,
    RegistrationBusy,
    RegistrationError,
    RegistrationNotNeeded,
    RegistrationNotOpenYet,
    SeatReleased,
    TicketInvalid,
    TooFarAway,
)

from .check_in import (
    CheckInOutcome,
    Position,
    check_in_by_code,
    check_in_code_show,
    registration_check_in,
    registration_check_in_by_ticket,
    registration_check_in_on_dispute,
    registration_check_in_undo,
    walk_in_check_in,
)
from .covers import event_image_remove, event_image_set
from .messages import organizer_message_send
from .no_shows import no_shows_release, no_shows_release_due
from .organizing import (
    CANCELLATION_REASON_MAX_LENGTH,
    CAPACITY_MAX,
    DESCRIPTION_MAX_LENGTH,
    EVENT_EDITABLE_FIELDS,
    event_cancel,
    event_create,
    event_duplicate,
    event_geocode_enqueue,
    event_organizer_change,
    event_place,
    event_publish,
    event_unpublish,
    event_update,
)
from .questions import (
    PRESETS,
    QUESTIONS_MAX,
    question_add,
    question_delete,
    question_field_name,
)
from .recommendations import recommendation_dismiss, recommendation_undismiss
from .registration import (
    registration_cancel,
    registration_check_eligibility,
    registration_create,
    registration_forget,
)
from .series import (
    SERIES_OCCURRENCES_MAX,
    WEEKDAY_NAMES,
    series_create,
    series_following,
    series_publish_following,
    series_question_add,
    series_update_following,
)

__all__ = [
    "CANCELLATION_REASON_MAX_LENGTH",
    "CAPACITY_MAX",
    "DESCRIPTION_MAX_LENGTH",
    "EVENT_EDITABLE_FIELDS",
    "PRESETS",
    "QUESTIONS_MAX",
    "SERIES_OCCURRENCES_MAX",
    "WEEKDAY_NAMES",
    "ActionForbidden",
    "AlreadyCheckedIn",
    "CancellationClosed",
    "CheckInClosed",
    "CheckInCodeExpired",
    "CheckInCodeInvalid",
    "CheckInCodeOtherEvent",
    "CheckInOutcome",
    "EmailUnverified",
    "EventCancelled",
    "EventClosed",
    "EventFull",
    "EventInvalid",
    "EventNotFound",
    "EventNotOpen",
    "EventStateConflict",
    "LocationRequired",
    "MessageRateLimited",
    "NoAccount",
    "NotAuthenticated",
    "NotEligible",
    "NotRegistered",
    "OrganizerNotAttendee",
    "Position",
    "RegistrationBusy",
    "RegistrationError",
    "RegistrationNotNeeded",
    "RegistrationNotOpenYet",
    "SeatReleased",
    "TicketInvalid",
    "TooFarAway",
    "check_in_by_code",
    "check_in_code_show",
    "event_cancel",
    "event_create",
    "event_duplicate",
    "event_geocode_enqueue",
    "event_image_remove",
    "event_image_set",
    "event_organizer_change",
    "event_place",
    "event_publish",
    "event_unpublish",
    "event_update",
    "no_shows_release",
    "no_shows_release_due",
    "organizer_message_send",
    "question_add",
    "question_delete",
    "question_field_name",
    "recommendation_dismiss",
    "recommendation_undismiss",
    "registration_cancel",
    "registration_check_eligibility",
    "registration_check_in",
    "registration_check_in_by_ticket",
    "registration_check_in_on_dispute",
    "registration_check_in_undo",
    "registration_create",
    "registration_forget",
    "series_create",
    "series_following",
    "series_publish_following",
    "series_question_add",
    "series_update_following",
    "walk_in_check_in",
]
