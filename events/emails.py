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

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core import clock, metrics
from users.models import User

from .calendar import calendar_render
from .models import EmailDelivery, EventChange, EventPost, EventRegistration, OrganizerMessage
from .selectors import registration_waitlist_position

logger = logging.getLogger(__name__)

# Reminders go out this long before the start; whoever registers later gets none.
REMINDER_LEAD = timedelta(hours=24)

# PostgreSQL's SQLSTATE for unique_violation.
_UNIQUE_VIOLATION = "23505"

Kind = EmailDelivery.Kind


# The registration status each e-mail announces. A message whose news is no longer true
# when the task runs (the student cancelled in between) is not sent.
_STATUS_ANNOUNCED = {
    Kind.CONFIRMED: EventRegistration.Status.CONFIRMED,
    Kind.WAITLISTED: EventRegistration.Status.WAITLISTED,
    Kind.PROMOTED: EventRegistration.Status.CONFIRMED,
}

_SUBJECTS = {
    Kind.CONFIRMED: "You're registered: {title}",
    Kind.WAITLISTED: "You're on the waitlist: {title}",
    Kind.PROMOTED: "A seat opened up — you're in: {title}",
    Kind.REMINDER: "Tomorrow: {title}",
    Kind.EVENT_CHANGED: "Changed: {title}",
    Kind.EVENT_CANCELLED: "Cancelled: {title}",
}


@dataclass(frozen=True)
class _Email:
    subject: str
    text: str
    html: str
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


# --- Rendering --------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """A header cannot hold a line break; organizers' titles and subjects are free text."""
    return " ".join(text.split())


def campus_time(moment: datetime) -> str:
    return clock.local_text(moment, "l, F j, Y, g:i A T")


def _place(location_name: str, address: str) -> str:
    return ", ".join(part for part in (location_name, address) if part)


def _absolute(path: str) -> str:
    return urljoin(settings.SITE_URL, path)


def _render(
    template: str,
    *,
    subject: str,
    user: User,
    event: EventPost,
    reason: str,
    attachments=(),
    headers=(),
    **context,
) -> _Email:
    """Render events/emails/<template>.{txt,html} around the event's facts.

    `reason` is the footer's "why you get this e-mail". Plain text is rendered with
    autoescaping off (templates/emails/base.txt); HTML escapes every user-written value.
    """
    context = {
        "subject": subject,
        "user": user,
        "name": user.get_short_name(),
        "event": event,
        "when": campus_time(event.starts_at),
        "place": _place(event.location_name, event.address),
        "event_url": _absolute(event.get_absolute_url()),
        "account_url": _absolute(reverse("users:account")),
        "site_url": settings.SITE_URL,
        "reason": reason,
        **context,
    }
    return _Email(
        subject=subject,
        text=render_to_string(f"events/emails/{template}.txt", context),
        html=render_to_string(f"events/emails/{template}.html", context),
        attachments=tuple(attachments),
        headers=tuple(headers),
    )


def _ics_attachment(event: EventPost) -> tuple[str, bytes, str]:
    return ("event.ics", calendar_render([event], name=_one_line(event.title)), "text/calendar")


# --- Delivery -------------------------------------------------------------------------------


def _deliver(
    *,
    key: str,
    kind: str,
    user: User,
    email: _Email,
    registration: EventRegistration | None = None,
    connection=None,
) -> bool:
    """Send the e-mail unless one with this key was sent; True when it was sent now.

    See the module docstring for why the row commits only after the send.
    """
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        to=[user.email],
        connection=connection,
        headers=dict(email.headers),
    )
    message.attach_alternative(email.html, "text/html")
    for filename, content, mimetype in email.attachments:
        message.attach(filename, content, mimetype)
    with transaction.atomic():
        try:
            with transaction.atomic():
                EmailDelivery.objects.create(
                    key=key,
                    kind=kind,
                    user=user,
                    registration=registration,
                    recipient=user.email,
                    sent_at=timezone.now(),
                )
        except IntegrityError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != _UNIQUE_VIOLATION:
                raise
            logger.info("E-mail %s was already sent; not sending it again", key)
            return False
        # An exception here (SMTP refused, connection dropped) rolls the row back.
        message.send()
    metrics.increment("emails.sent", tags={"kind": kind})
    return True


def _registration_key(registration: EventRegistration, kind: str) -> str:
    # registered_at tells a re-registration apart: a student can be promoted twice.
    return f"registration:{registration.pk}:{kind}:{registration.registered_at.isoformat()}"


def registration_email_send(*, registration_id: int, kind: str) -> bool:
    """Send the e-mail of this kind about the registration; False when not sent now."""
    kind = Kind(kind)
    registration = (
        EventRegistration.objects.select_related("event__category", "user")
        .filter(pk=registration_id)
        .first()
    )
    if registration is None or registration.status != _STATUS_ANNOUNCED[kind]:
        return False
    event, user = registration.event, registration.user
    attachments = [] if kind == Kind.WAITLISTED else [_ics_attachment(event)]
    email = _render(
        kind.value,
        subject=_SUBJECTS[kind].format(title=_one_line(event.title)),
        user=user,
        event=event,
        reason="You registered for this event on E-Ren.",
        attachments=attachments,
        position=registration_waitlist_position(registration=registration),
        # Inside the reminder window no separate reminder follows: this e-mail is it.
        starts_soon=event.starts_at - timezone.now() <= REMINDER_LEAD,
    )
    return _deliver(
        key=_registration_key(registration, kind),
        kind=kind,
        user=user,
        registration=registration,
        email=email,
    )


# --- Reminders ------------------------------------------------------------------------------


def reminders_due(*, now: datetime | None = None) -> QuerySet[EventRegistration]:
    """Confirmed registrations of published events starting within REMINDER_LEAD that are owed
    a reminder.

    Not owed: students who turned reminders off; registrations made inside the window (their
    confirmation said it is soon); registrations already sent a reminder, a confirmation or a
    promotion inside the window before the event's current start. Comparing with the
    current start means an event moved a week later reminds again, the day before.
    """
    now = now or timezone.now()
    recently_told = EmailDelivery.objects.filter(
        registration=OuterRef("pk"),
        kind__in=[Kind.REMINDER, Kind.CONFIRMED, Kind.PROMOTED],
        sent_at__gte=OuterRef("event__starts_at") - REMINDER_LEAD,
    )
    return (
        EventRegistration.objects.filter(
            status=EventRegistration.Status.CONFIRMED,
            event__status=EventPost.Status.PUBLISHED,
            event__starts_at__gt=now,
            event__starts_at__lte=now + REMINDER_LEAD,
            registered_at__lt=F("event__starts_at") - REMINDER_LEAD,
            user__is_active=True,
            user__email_reminders=True,
        )
        .filter(~Exists(recently_told))
        .order_by("event__starts_at", "pk")
    )


def reminder_email_send(*, registration_id: int) -> bool:
    """Remind the student of the event tomorrow, if the registration is still owed one."""
    registration = (
        reminders_due().select_related("event__category", "user").filter(pk=registration_id).first()
    )
    if registration is None:
        return False
    event, user = registration.event, registration.user
    reminders_off_url = _absolute(reverse("users:reminders-off", args=[user.reminders_off_token()]))
    email = _render(
        "reminder",
        subject=_SUBJECTS[Kind.REMINDER].format(title=_one_line(event.title)),
        user=user,
        event=event,
        reason="You registered for this event on E-Ren and asked for reminders.",
        attachments=[_ics_attachment(event)],
        reminders_off_url=reminders_off_url,
        # One-click unsubscribe in the mail client (RFC 8058), for reminders only.
        headers=[
            ("List-Unsubscribe", f"<{reminders_off_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ],
    )
    return _deliver(
        key=f"reminder:{registration.pk}:{event.starts_at.isoformat()}",
        kind=Kind.REMINDER,
        user=user,
        registration=registration,
        email=email,
    )


# --- E-mails to everyone registered ---------------------------------------------------------


def _registrants(event: EventPost, *statuses: str) -> QuerySet[EventRegistration]:
    return (
        EventRegistration.objects.filter(event=event, status__in=statuses)
        .select_related("user")
        .order_by("pk")
    )


def _deliver_each(*, registrations, key_for, kind: str, email_for) -> int:
    """One e-mail per student (nobody sees the other addresses), over one SMTP connection.

    Each has its own idempotency row: a task retried after a failure half-way through sends
    only to those who did not get it.
    """
    sent = 0
    with get_connection() as connection:
        for registration in registrations:
            sent += _deliver(
                key=key_for(registration),
                kind=kind,
                user=registration.user,
                registration=registration,
                email=email_for(registration),
                connection=connection,
            )
    return sent


def event_cancelled_email_send(*, event_id: int) -> int:
    """Tell everyone confirmed or waiting that the event is cancelled, and why."""
    event = (
        EventPost.objects.select_related("category")
        .filter(pk=event_id, status=EventPost.Status.CANCELLED)
        .first()
    )
    if event is None:
        return 0
    statuses = (EventRegistration.Status.CONFIRMED, EventRegistration.Status.WAITLISTED)
    subject = _SUBJECTS[Kind.EVENT_CANCELLED].format(title=_one_line(event.title))
    return _deliver_each(
        registrations=_registrants(event, *statuses),
        key_for=lambda registration: f"event-cancelled:{event.pk}:{registration.user_id}",
        kind=Kind.EVENT_CANCELLED,
        email_for=lambda registration: _render(
            "event_cancelled",
            subject=subject,
            user=registration.user,
            event=event,
            reason="You registered for this event on E-Ren.",
            waitlisted=registration.status == EventRegistration.Status.WAITLISTED,
        ),
    )


def event_changed_email_send(*, change_id: int) -> int:
    """Tell everyone confirmed or waiting that the event's time or place changed."""
    change = (
        EventChange.objects.select_related("event__category")
        .filter(pk=change_id, event__status=EventPost.Status.PUBLISHED)
        .first()
    )
    if change is None:
        # Gone, or cancelled or unpublished since: that news replaces this one.
        return 0
    event = change.event
    statuses = (EventRegistration.Status.CONFIRMED, EventRegistration.Status.WAITLISTED)
    subject = _SUBJECTS[Kind.EVENT_CHANGED].format(title=_one_line(event.title))
    context = {
        "change": change,
        "when_before": campus_time(change.starts_at_before),
        "ends_before": campus_time(change.ends_at_before),
        "when_after": campus_time(change.starts_at_after),
        "ends_after": campus_time(change.ends_at_after),
        "place_before": _place(change.location_name_before, change.address_before),
        "place_after": _place(change.location_name_after, change.address_after),
        # The same calendar entry for everyone: rendered once, not once per student.
        "attachments": [_ics_attachment(event)],
    }
    return _deliver_each(
        registrations=_registrants(event, *statuses),
        key_for=lambda registration: f"event-changed:{change.pk}:{registration.user_id}",
        kind=Kind.EVENT_CHANGED,
        email_for=lambda registration: _render(
            "event_changed",
            subject=subject,
            user=registration.user,
            event=event,
            reason="You registered for this event on E-Ren.",
            **context,
        ),
    )


def organizer_message_email_send(*, message_id: int) -> int:
    """E-mail an organizer's message to every confirmed student; once per student."""
    message = (
        OrganizerMessage.objects.select_related("event__category", "sent_by")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return 0
    event = message.event
    sender = message.sent_by.get_full_name() if message.sent_by else "The organizer"
    subject = f"{_one_line(event.title)}: {_one_line(message.subject)}"
    sent = _deliver_each(
        registrations=_registrants(event, EventRegistration.Status.CONFIRMED),
        key_for=lambda registration: f"organizer-message:{message.pk}:{registration.user_id}",
        kind=Kind.ORGANIZER_MESSAGE,
        email_for=lambda registration: _render(
            "organizer_message",
            subject=subject,
            user=registration.user,
            event=event,
            reason="You are registered for this event, and its organizer wrote to everyone "
            "registered.",
            message=message,
            sender=sender,
        ),
    )
    OrganizerMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    return sent


# --- Clean-up -------------------------------------------------------------------------------


def email_delivery_delete_old(*, older_than: timedelta) -> int:
    """Drop idempotency records older than `older_than`; returns how many.

    Safe once no task can still retry the e-mail (retries give up within an hour) and the
    reminder sweep no longer looks at it (REMINDER_LEAD before an event's start).
    """
    count, _ = EmailDelivery.objects.filter(sent_at__lt=timezone.now() - older_than).delete()
    return count
