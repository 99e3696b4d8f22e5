"""Reads about users."""

from allauth.account.models import EmailAddress

from .models import OrganizerRequest, User
from .school_email import school_email_is_allowed


def user_has_verified_school_email(*, user: User) -> bool:
    """True when the account's address is a school address its owner has confirmed."""
    if not school_email_is_allowed(user.email):
        return False
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def organizer_request_latest(*, user: User) -> OrganizerRequest | None:
    return OrganizerRequest.objects.filter(user=user).order_by("-created_at", "-pk").first()
