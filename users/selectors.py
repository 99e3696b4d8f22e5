"""Reads about users."""

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db.models import Exists

from escore.models import ScoreEntry
from events.models import EmailDelivery, EventPost, EventRegistration, OrganizerMessage

from .models import OrganizerRequest, User
from .school_email import school_email_is_allowed


def user_has_verified_school_email(*, user: User) -> bool:
    """True when the account's address is a school address its owner has confirmed."""
    if not school_email_is_allowed(user.email):
        return False
    # A page asks several times (listings, the registration form, the leaderboard gate); the
    # answer is kept on the instance, which lives for one request, for the address it is for.
    remembered = user.__dict__.get("_verified_school_email")
    if remembered is not None and remembered[0] == user.email:
        return remembered[1]
    verified = EmailAddress.objects.filter(
        user=user, email__iexact=user.email, verified=True
    ).exists()
    verified_school_email_remember(user=user, verified=verified)
    return verified


def verified_email_exists(*, user: User) -> Exists:
    """The address check of user_has_verified_school_email as an expression, for a query the
    page runs anyway (an event page's own row): annotate it, then pass the answer to
    verified_school_email_remember, and the page asks the database no more."""
    return Exists(EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True))


def verified_school_email_remember(*, user: User, verified: bool) -> None:
    """Keep a confirmed answer on the instance (it lives for one request) for its address; a
    "no" is asked again, so an address confirmed later in the request counts at once."""
    if verified:
        user.__dict__["_verified_school_email"] = (user.email, True)


def organizer_request_latest(*, user: User) -> OrganizerRequest | None:
    return OrganizerRequest.objects.filter(user=user).order_by("-created_at", "-pk").first()


def user_data_export(*, user: User) -> dict[str, Any]:
    """Everything E-Ren keeps about the user, for "download my data": the account, its
    addresses and second factors (their kind, not their secrets), registrations, score
    entries, saved searches, score disputes, organizer requests, and for organizers their
    events and messages. A few queries, whatever the amount."""
    return {
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "is_organizer": user.is_organizer,
            "is_staff": user.is_staff,
            "leaderboard_visibility": user.leaderboard_visibility,
            "pseudonym": user.pseudonym,
            "email_reminders": user.email_reminders,
            "calendar_feed_enabled": bool(user.calendar_token),
        },
        "email_addresses": list(
            EmailAddress.objects.filter(user=user).values("email", "verified", "primary")
        ),
        "second_factors": list(
            Authenticator.objects.filter(user=user).values("type", "created_at", "last_used_at")
        ),
        "registrations": [
            {
                "event": {"id": r.event_id, "title": r.event.title, "starts_at": r.event.starts_at},
                "status": r.status,
                "registered_at": r.registered_at,
                "cancelled_at": r.cancelled_at,
                "checked_in_at": r.checked_in_at,
            }
            for r in EventRegistration.objects.filter(user=user)
            .select_related("event")
            .order_by("registered_at", "pk")
        ],
        "score_entries": [
            {
                "points": entry.points,
                "reason": entry.reason,
                "event": entry.event and {"id": entry.event_id, "title": entry.event.title},
                "note": entry.note,
                "created_at": entry.created_at,
            }
            for entry in ScoreEntry.objects.filter(user=user)
            .select_related("event")
            .order_by("created_at", "pk")
        ],
        "saved_searches": list(
            user.saved_searches.order_by("created_at").values(
                "name", "query", "email_alerts", "created_at"
            )
        ),
        "score_disputes": list(
            user.score_disputes.order_by("created_at").values(
                "event_id", "note", "status", "decision_reason", "created_at", "decided_at"
            )
        ),
        "organizer_requests": list(
            OrganizerRequest.objects.filter(user=user)
            .order_by("created_at")
            .values("reason", "status", "created_at", "decided_at")
        ),
        "events_organized": list(
            EventPost.objects.filter(organizer=user)
            .order_by("starts_at")
            .values("id", "title", "starts_at", "status")
        ),
        "messages_sent": list(
            OrganizerMessage.objects.filter(sent_by=user)
            .order_by("created_at")
            .values("event_id", "subject", "body", "created_at", "recipient_count")
        ),
        "emails_sent_to_you": list(
            EmailDelivery.objects.filter(user=user)
            .order_by("sent_at")
            .values("kind", "recipient", "sent_at")
        ),
    }
