"""E-mails to students about their registrations.

A short plain-text message for now. The jobs issue replaces the body with site-branded HTML
+ plain-text templates, attaches an .ics file to the confirmation and records each sent
e-mail so that a retried task never sends the same one twice.
"""

import zoneinfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import models
from django.utils import dateformat

from .models import EventRegistration
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
    send_mail(
        subject=_SUBJECTS[kind].format(title=event.title),
        message=body,
        from_email=None,
        recipient_list=[registration.user.email],
    )
    return True
