"""The event code for self check-in: six characters at the door, new every 30 seconds.

A code is an HMAC-SHA256 (SECRET_KEY, a salt of its own: `django.utils.crypto.salted_hmac`)
of the event id and the current 30-second window, written as six characters of Crockford's
base32 (no I, L, O or U; a typed O, I or L is read as 0, 1, 1). Nothing is stored, and
nobody without the key can compute one. A code is accepted in its own window and the next,
so it lives 30 to 60 seconds: time enough to type it, too short for a photo passed around a
group chat. The organizer's screen shows it as text and as a QR code of the self check-in
page with the event and the code filled in.

Whether check-in is open, and that one account checks in once, is for the service
(events.services.check_in); the rate limit `check_in_code_user` bounds guessing (30 bits a
code, and only the events with check-in open at that moment can match).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from .errors import CheckInCodeExpired, CheckInCodeInvalid, CheckInCodeOtherEvent
from .models import EventPost
from .selectors import events_check_in_open

PERIOD_SECONDS = 30
CODE_LENGTH = 6
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# A code up to this many windows old is "expired" (a clear message); older ones are unknown.
EXPIRED_LOOKBACK_WINDOWS = 20
_SALT = "events.check_in_codes.v1"
_TYPING_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1", " ": None, "-": None})


@dataclass(frozen=True)
class CheckInCode:
    code: str
    expires_at: datetime
    # The self check-in page with the event and this code filled in: what the QR code holds.
    path: str


class Match(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    NONE = "none"


def _window(moment: datetime) -> int:
    return int(moment.timestamp()) // PERIOD_SECONDS


def code_for(*, event_id: int, window: int) -> str:
    digest = salted_hmac(_SALT, f"{event_id}:{window}", algorithm="sha256").digest()
    number = int.from_bytes(digest[:4], "big")
    return "".join(ALPHABET[(number >> (5 * place)) & 31] for place in range(CODE_LENGTH))


def code_normalize(text: str) -> str:
    """What the student typed, as a code: upper case, no spaces or dashes, O/I/L as 0/1."""
    return text[:64].upper().translate(_TYPING_FIXES)


def code_current(*, event_id: int, now: datetime) -> CheckInCode:
    """The code to show at the door now, and when the next one replaces it."""
    window = _window(now)
    code = code_for(event_id=event_id, window=window)
    query = urlencode({"event": event_id, "code": code})
    return CheckInCode(
        code=code,
        expires_at=datetime.fromtimestamp((window + 1) * PERIOD_SECONDS, tz=UTC),
        path=f"{reverse('events:self-check-in')}?{query}",
    )


def code_match(*, event_id: int, code: str, now: datetime) -> Match:
    """VALID in its own window or the next, EXPIRED when older (up to ten minutes), else NONE."""
    window = _window(now)
    for age in range(EXPIRED_LOOKBACK_WINDOWS + 1):
        if constant_time_compare(code, code_for(event_id=event_id, window=window - age)):
            return Match.VALID if age <= 1 else Match.EXPIRED
    return Match.NONE


def code_event(*, code: str, now: datetime, event_id: int | None = None) -> EventPost:
    """The event whose current code this is; raises why the code is not valid.

    With `event_id` (the QR code names its event) the code must be that event's; typed
    alone, it is looked for among the events whose check-in is open now.
    """
    code = code_normalize(code)
    if len(code) != CODE_LENGTH or not set(code) <= set(ALPHABET):
        raise CheckInCodeInvalid()
    if event_id is not None:
        match = code_match(event_id=event_id, code=code, now=now)
        event = EventPost.objects.filter(pk=event_id).first()
        if event is not None and match is Match.VALID:
            return event
        if event is not None and match is Match.EXPIRED:
            raise CheckInCodeExpired()
        others = _valid_for(list(events_check_in_open(now=now)), code=code, now=now)
        if len(others) == 1:
            raise CheckInCodeOtherEvent(
                f"This code is for “{others[0].title}”, not for this event: check which "
                "screen you scanned."
            )
        raise CheckInCodeInvalid()
    open_events = list(events_check_in_open(now=now))
    matches = _valid_for(open_events, code=code, now=now)
    if len(matches) == 1:
        return matches[0]
    if matches:
        # Two events' codes collided this window (about one in ten million): the QR code
        # names its event.
        raise CheckInCodeInvalid("Scan the QR code at the door instead: this code is ambiguous.")
    if any(code_match(event_id=e.pk, code=code, now=now) is Match.EXPIRED for e in open_events):
        raise CheckInCodeExpired()
    raise CheckInCodeInvalid()


def _valid_for(events: list[EventPost], *, code: str, now: datetime) -> list[EventPost]:
    window = _window(now)
    return [
        event
        for event in events
        if any(
            constant_time_compare(code, code_for(event_id=event.pk, window=w))
            for w in (window, window - 1)
        )
    ]
