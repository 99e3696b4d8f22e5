"""E-mails to students about events: site-branded HTML + plain text, each delivered once.

Every e-mail goes through `delivery.deliver`, under a key that names what makes the message
distinct, in three steps, none of which holds a transaction open while SMTP talks:

1. claim: an `EmailDelivery` row with the key is committed (the unique index decides
   between two copies of the task: the second waits for the first's outcome);
2. send, outside any transaction;
3. record: `accepted_at` is set. An SMTP error releases the claim, and the outbox retries
   the task later (core/outbox.py).

A worker killed between the server's acceptance and step 3 leaves a claim without
`accepted_at`; after EMAIL_CLAIM_SECONDS the retry takes it over and sends once more. That
second copy carries the same `Message-ID` (made from the key), which mail servers and
clients treat as the same message: at least once, and at most once more, per e-mail.

The senders skip an e-mail whose news is no longer true when the task runs (the student
cancelled in between, the event was cancelled after it was changed).
"""

from .delivery import campus_time
from .senders import (
    REMINDER_LEAD,
    email_delivery_delete_old,
    event_cancelled_email_send,
    event_changed_email_send,
    organizer_message_email_send,
    registration_email_send,
    reminder_email_send,
    reminders_due,
)

__all__ = [
    "REMINDER_LEAD",
    "campus_time",
    "email_delivery_delete_old",
    "event_cancelled_email_send",
    "event_changed_email_send",
    "organizer_message_email_send",
    "registration_email_send",
    "reminder_email_send",
    "reminders_due",
]
