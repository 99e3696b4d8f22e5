"""Rendering and sending e-mails, each at most once (see events.emails)."""

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core import clock, metrics
from events.calendar import calendar_render
from events.models import EmailDelivery, EventPost, EventRegistration
from users.models import User

logger = logging.getLogger(__name__)

# PostgreSQL's SQLSTATE for unique_violation.
_UNIQUE_VIOLATION = "23505"

Kind = EmailDelivery.Kind

SUBJECTS = {
    Kind.CONFIRMED: "You're registered: {title}",
    Kind.WAITLISTED: "You're on the waitlist: {title}",
    Kind.PROMOTED: "A seat opened up — you're in: {title}",
    Kind.REMINDER: "Tomorrow: {title}",
    Kind.EVENT_CHANGED: "Changed: {title}",
    Kind.EVENT_CANCELLED: "Cancelled: {title}",
}


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


# --- Rendering --------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """A header cannot hold a line break; organizers' titles and subjects are free text."""
    return " ".join(text.split())


def campus_time(moment: datetime) -> str:
    return clock.local_text(moment, "l, F j, Y, g:i A T")


def place_text(location_name: str, address: str) -> str:
    return ", ".join(part for part in (location_name, address) if part)


def absolute(path: str) -> str:
    return urljoin(settings.SITE_URL, path)


def render(
    template: str,
    *,
    subject: str,
    user: User,
    event: EventPost,
    reason: str,
    attachments=(),
    headers=(),
    **context,
) -> Email:
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
        "place": place_text(event.location_name, event.address),
        "event_url": absolute(event.get_absolute_url()),
        "account_url": absolute(reverse("users:account")),
        "site_url": settings.SITE_URL,
        "reason": reason,
        **context,
    }
    return Email(
        subject=subject,
        text=render_to_string(f"events/emails/{template}.txt", context),
        html=render_to_string(f"events/emails/{template}.html", context),
        attachments=tuple(attachments),
        headers=tuple(headers),
    )


def ics_attachment(event: EventPost) -> tuple[str, bytes, str]:
    return ("event.ics", calendar_render([event], name=one_line(event.title)), "text/calendar")


# --- Delivery -------------------------------------------------------------------------------


def deliver(
    *,
    key: str,
    kind: str,
    user: User,
    email: Email,
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


def registrants(event: EventPost, *statuses: str) -> QuerySet[EventRegistration]:
    return (
        EventRegistration.objects.filter(event=event, status__in=statuses)
        .select_related("user")
        .order_by("pk")
    )


def deliver_each(*, registrations, key_for, kind: str, email_for) -> int:
    """One e-mail per student (nobody sees the other addresses), over one SMTP connection.

    Each has its own idempotency row: a task retried after a failure half-way through sends
    only to those who did not get it.
    """
    sent = 0
    with get_connection() as connection:
        for registration in registrations:
            sent += deliver(
                key=key_for(registration),
                kind=kind,
                user=registration.user,
                registration=registration,
                email=email_for(registration),
                connection=connection,
            )
    return sent
