"""JSON API about the logged-in user."""

from ninja import Router, Schema
from ninja.security import django_auth

from . import selectors
from .requests import ApiRequest

router = Router(tags=["me"], auth=django_auth)


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    email_verified: bool
    is_organizer: bool
    is_staff: bool
    leaderboard_visibility: str
    pseudonym: str
    email_reminders: bool
    organizer_request_status: str | None


@router.get("", response=MeOut, summary="The logged-in user")
def me(request: ApiRequest):
    user = request.auth
    latest = selectors.organizer_request_latest(user=user)
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.get_full_name(),
        "email_verified": selectors.user_has_verified_school_email(user=user),
        "is_organizer": user.is_organizer,
        "is_staff": user.is_staff,
        "leaderboard_visibility": user.leaderboard_visibility,
        "pseudonym": user.pseudonym,
        "email_reminders": user.email_reminders,
        "organizer_request_status": latest.status if latest else None,
    }
