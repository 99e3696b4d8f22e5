"""JSON API about the logged-in user."""

from ninja import Field, Router, Schema
from ninja.security import django_auth

from core.api import ERRORS, InputSchema
from events.access import AccessFeature

from . import selectors, services
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
    access_needs: list[str] = Field(description="Saved accessibility needs (events.access).")
    organizer_request_status: str | None


class AccessNeedsOut(Schema):
    access_needs: list[str]


class AccessNeedsIn(InputSchema):
    access_needs: list[AccessFeature] = Field(
        max_length=len(AccessFeature.values),
        description="The whole list, [] for none: " + ", ".join(AccessFeature.values),
    )


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
        "access_needs": user.access_needs,
        "organizer_request_status": latest.status if latest else None,
    }


@router.put(
    "/access-needs",
    response={200: AccessNeedsOut, **ERRORS},
    summary="Save my accessibility needs (matching events come first for me)",
)
def access_needs_update(request: ApiRequest, payload: AccessNeedsIn):
    user = services.user_access_needs_update(
        user=request.auth, access_needs=[str(need) for need in payload.access_needs]
    )
    return {"access_needs": user.access_needs}
