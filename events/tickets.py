"""Check-in tickets: the signed token behind each confirmed registration's QR code.

The token is `django.core.signing` output (HMAC-SHA256 with SECRET_KEY and a salt of its own),
so it cannot be guessed or forged and needs no column or index. It names the registration and
the moment the student (re-)registered: cancelling and registering again gives a new ticket
and the old one stops working, without storing or revoking anything.
"""

import segno
from django.core import signing
from django.urls import reverse

from .errors import TicketInvalid
from .models import EventRegistration

_SALT = "events.tickets.check-in.v1"


def _registered_stamp(registration: EventRegistration) -> int:
    return int(registration.registered_at.timestamp() * 1_000_000)


def ticket_token(registration: EventRegistration) -> str:
    return signing.dumps([registration.pk, _registered_stamp(registration)], salt=_SALT)


def ticket_check_in_path(registration: EventRegistration) -> str:
    return reverse("events:check-in", kwargs={"token": ticket_token(registration)})


def ticket_qr_svg(url: str) -> str:
    """The QR code of a check-in URL as inline SVG, for the organizer's phone camera.

    segno writes it from the URL alone, which is ours and signed: no user text in it.
    """
    return segno.make(url, error="m").svg_inline(scale=6, dark="#1d1d1f", omitsize=True)


def ticket_registration_get(token: str) -> EventRegistration:
    """The registration the token was issued for, while it is still that registration.

    Raises TicketInvalid for forged or mangled tokens and for tickets of a registration that
    was cancelled and made again since.
    """
    try:
        registration_id, stamp = signing.loads(token[:500], salt=_SALT)
        registration_id, stamp = int(registration_id), int(stamp)
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise TicketInvalid() from exc
    registration = (
        EventRegistration.objects.select_related("event", "event__organizer", "user")
        .filter(pk=registration_id)
        .first()
    )
    if registration is None or _registered_stamp(registration) != stamp:
        raise TicketInvalid()
    return registration
