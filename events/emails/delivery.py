"""Rendering and sending e-mails, each once per key (see events.emails)."""

import hashlib
import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

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
    Kind.RELEASED: "Your seat went to the waitlist: {title}",
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


def ics_attachment(
    event: EventPost, *, method: str = "PUBLISH", join_url: str = ""
) -> tuple[str, bytes, str]:
    content = calendar_render(
        [event], name=one_line(event.title), method=method, join_urls={event.pk: join_url}
    )
    return ("event.ics", content, "text/calendar")


# --- Delivery -------------------------------------------------------------------------------


class RecipientsRefused(smtplib.SMTPException):
    """Some of a bulk e-mail's addresses were refused; the others went out."""


class EmailInFlight(Exception):
    """Another copy of the task is sending this e-mail right now; try again later."""


def message_id(key: str) -> str:
    """The same Message-ID for every attempt at one e-mail, so a resend is one message."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"<{digest}@{urlsplit(settings.SITE_URL).hostname or 'eren.invalid'}>"


def _claim(*, key: str, kind: str, user: User, registration: EventRegistration | None):
    """Commit a claim on the key and return its time; None when the e-mail was sent already.

    Waits for a copy that is sending the same e-mail right now (its claim is younger than
    EMAIL_CLAIM_SECONDS) and takes over a claim older than that (its worker died).
    """
    claim_age = timedelta(seconds=settings.EMAIL_CLAIM_SECONDS)
    deadline = time.monotonic() + settings.EMAIL_CLAIM_SECONDS
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                EmailDelivery.objects.create(
                    key=key,
                    kind=kind,
                    user=user,
                    registration=registration,
                    recipient=user.email,
                    sent_at=now,
                )
            return now
        except IntegrityError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != _UNIQUE_VIOLATION:
                raise
        taken = EmailDelivery.objects.filter(key=key).values("accepted_at").first()
        if taken is not None and taken["accepted_at"] is not None:
            logger.info("E-mail %s was already sent; not sending it again", key)
            return None
        if EmailDelivery.objects.filter(
            key=key, accepted_at__isnull=True, sent_at__lt=now - claim_age
        ).update(sent_at=now):
            logger.warning("E-mail %s: taking over a claim left by a worker that died", key)
            return now
        if time.monotonic() > deadline:
            raise EmailInFlight(key)
        time.sleep(0.2)


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

    Claim, send outside any transaction, record (see events.emails).
    """
    claimed_at = _claim(key=key, kind=kind, user=user, registration=registration)
    if claimed_at is None:
        return False
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        to=[user.email],
        connection=connection,
        headers={**dict(email.headers), "Message-ID": message_id(key)},
    )
    message.attach_alternative(email.html, "text/html")
    for filename, content, mimetype in email.attachments:
        message.attach(filename, content, mimetype)
    claim = EmailDelivery.objects.filter(key=key, sent_at=claimed_at, accepted_at__isnull=True)
    try:
        message.send()
    except BaseException:
        claim.delete()  # released: the retry sends it
        raise
    claim.update(accepted_at=timezone.now())
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
    sent, refused = 0, 0
    with get_connection() as connection:
        for registration in registrations:
            try:
                sent += deliver(
                    key=key_for(registration),
                    kind=kind,
                    user=registration.user,
                    registration=registration,
                    email=email_for(registration),
                    connection=connection,
                )
            except smtplib.SMTPRecipientsRefused:
                # One address the server refuses must not hold back everyone after it.
                logger.warning("The mail server refused registration %s's address", registration.pk)
                refused += 1
    if refused:
        raise RecipientsRefused(f"{refused} address(es) refused; {sent} sent, retrying the rest")
    return sent
