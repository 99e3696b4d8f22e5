"""E-mails to students about their registrations.

A short plain-text message for now. The jobs issue replaces the body with site-branded HTML
+ plain-text templates, attaches an .ics file to the confirmation and records each sent
e-mail so that a retried task never sends the same one twice.
"""

import zoneinfo

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mail
from django.db import models
from django.utils import dateformat, timezone

from .models import EventPost, EventRegistration, OrganizerMessage
from .selectors import registration_waitlist_position

CAMPUS_TIME_ZONE = zoneinfo.ZoneInfo("America/Chicago")


class RegistrationEmailKind(models.TextChoices):
    CONFIRMED = "confirmed", "Registration confirmed"
    WAITLISTED = "waitlisted", "Added to the waitlist"
    PROMOTED = "promoted", "Promoted from the waitlist"


# The registration status each e-mail announces. A message whose news is no longer true
# when the task runs (the student cancelled in between) is not sent.
_STATUS_ANNOUNCED = {
    RegistrationEmailKind.CONFIRMED: EventRegistration.Status.CONFIRMED,
    RegistrationEmailKind.WAITLISTED: EventRegistration.Status.WAITLISTED,
    RegistrationEmailKind.PROMOTED: EventRegistration.Status.CONFIRMED,
}

_SUBJECTS = {
    RegistrationEmailKind.CONFIRMED: "You're registered: {title}",
    RegistrationEmailKind.WAITLISTED: "You're on the waitlist: {title}",
    RegistrationEmailKind.PROMOTED: "A seat opened up — you're in: {title}",
}

_OPENINGS = {
    RegistrationEmailKind.CONFIRMED: "Your seat is confirmed.",
    RegistrationEmailKind.WAITLISTED: (
        "The event is full, so you are on the waitlist (position {position}). "
        "If a seat opens up, it is yours and we will e-mail you."
    ),
    RegistrationEmailKind.PROMOTED: (
        "A seat opened up and it is yours: your registration is now confirmed."
    ),
}


def registration_email_send(*, registration_id: int, kind: str) -> bool:
    """Send the e-mail of this kind about the registration; False when it no longer applies."""
    kind = RegistrationEmailKind(kind)
    registration = (
        EventRegistration.objects.select_related("event", "user").filter(pk=registration_id).first()
    )
    if registration is None or registration.status != _STATUS_ANNOUNCED[kind]:
        return False

    event = registration.event
    starts_at = dateformat.format(
        event.starts_at.astimezone(CAMPUS_TIME_ZONE), "l, F j, Y, g:i A T"
    )
    place = ", ".join(part for part in (event.location_name, event.address) if part)
    opening = _OPENINGS[kind].format(
        position=registration_waitlist_position(registration=registration)
    )
    body = (
        f"Hello {registration.user.get_short_name()},\n\n"
        f"{opening}\n\n"
        f"{event.title}\n"
        f"When:  {starts_at}\n"
        f"Where: {place}\n"
        f"Details and cancellation: {settings.SITE_URL}{event.get_absolute_url()}\n\n"
        "— E-Ren, Washington University in St. Louis\n"
    )
    # A header cannot hold a line break; organizers' titles are free text.
    one_line_title = " ".join(event.title.split())
    send_mail(
        subject=_SUBJECTS[kind].format(title=one_line_title),
        message=body,
        from_email=None,
        recipient_list=[registration.user.email],
    )
    return True


def _when_and_where(event) -> str:
    starts_at = dateformat.format(
        event.starts_at.astimezone(CAMPUS_TIME_ZONE), "l, F j, Y, g:i A T"
    )
    place = ", ".join(part for part in (event.location_name, event.address) if part)
    return f"When:  {starts_at}\nWhere: {place}\n"


def _send_each(*, subject: str, body_for, registrations) -> int:
    """One e-mail per student (nobody sees the other addresses), over one SMTP connection."""
    messages = [
        EmailMessage(subject=subject, body=body_for(registration), to=[registration.user.email])
        for registration in registrations
    ]
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


def event_cancelled_email_send(*, event_id: int) -> int:
    """Tell everyone confirmed or waiting that the event is cancelled, and why."""
    event = EventPost.objects.filter(pk=event_id, status=EventPost.Status.CANCELLED).first()
    if event is None:
        return 0
    registrations = (
        EventRegistration.objects.filter(
            event=event,
            status__in=[EventRegistration.Status.CONFIRMED, EventRegistration.Status.WAITLISTED],
        )
        .select_related("user")
        .order_by("pk")
    )

    def body_for(registration) -> str:
        return (
            f"Hello {registration.user.get_short_name()},\n\n"
            f"{event.title} is cancelled. The organizer wrote:\n\n"
            f"{event.cancellation_reason}\n\n"
            f"{_when_and_where(event)}"
            f"Details: {settings.SITE_URL}{event.get_absolute_url()}\n\n"
            "You don't need to do anything: your registration is closed.\n\n"
            "— E-Ren, Washington University in St. Louis\n"
        )

    return _send_each(
        subject=f"Cancelled: {event.title}", body_for=body_for, registrations=registrations
    )


def organizer_message_email_send(*, message_id: int) -> int:
    """E-mail an organizer's message to every confirmed student; once per message."""
    message = (
        OrganizerMessage.objects.select_related("event", "sent_by")
        .filter(pk=message_id, sent_at__isnull=True)
        .first()
    )
    if message is None:
        return 0
    event = message.event
    sender = message.sent_by.get_full_name() if message.sent_by else "The organizer"
    registrations = (
        EventRegistration.objects.filter(event=event, status=EventRegistration.Status.CONFIRMED)
        .select_related("user")
        .order_by("pk")
    )

    def body_for(registration) -> str:
        return (
            f"Hello {registration.user.get_short_name()},\n\n"
            f"{sender}, who organizes {event.title}, wrote to everyone registered:\n\n"
            f"{message.body}\n\n"
            f"{_when_and_where(event)}"
            f"Details: {settings.SITE_URL}{event.get_absolute_url()}\n\n"
            "— E-Ren, Washington University in St. Louis\n"
        )

    sent = _send_each(
        subject=f"{event.title}: {message.subject}", body_for=body_for, registrations=registrations
    )
    OrganizerMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now())
    return sent
