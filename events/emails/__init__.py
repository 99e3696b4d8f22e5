"""E-mails to students about events: site-branded HTML + plain text, each sent at most once.

Every e-mail goes through `_deliver`, which records it in `EmailDelivery` under a key that
names what makes the message distinct. The row is inserted and the message sent inside one
transaction, committed only after the mail server accepted the message:

- a crash or SMTP error *before* the server accepts the message rolls the row back, so the
  retried task sends it (nothing is lost);
- the same task running twice at once: the second insert waits on the unique index until the
  first commits, then finds the key taken and sends nothing;
- a crash in the instant *after* the server accepted the message but before COMMIT leaves no
  row, so the retry sends it again.

That is at-least-once per e-mail, with duplicates confined to that last narrow window. The
other choice (commit the claim first, then send) turns the same crash into an e-mail never
sent; a lost "a seat opened up, it's yours" or "the event is cancelled" costs a student more
than a rare second copy.

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
