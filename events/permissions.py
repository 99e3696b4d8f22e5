"""Who may do what with an event: the one place that decides, for pages and API alike.

Views and API endpoints load the event through `event_get_authorized`; services check again
with `event_check_access`, so a new entry point cannot forget the rule. Drafts are private:
to anyone who may not manage the event a draft answers like a missing event (404), while a
published or cancelled event answers 403, since its existence is public anyway.
"""

from enum import StrEnum

from .errors import ActionForbidden, EventNotFound, NotAuthenticated
from .models import EventPost


class Action(StrEnum):
    VIEW = "view"
    EDIT = "edit"
    PUBLISH = "publish"
    CANCEL = "cancel"
    UNPUBLISH = "unpublish"
    REASSIGN = "reassign"
    ROSTER = "roster"
    EXPORT = "export"
    CHECK_IN = "check_in"
    MESSAGE = "message"


# Actions only staff may take, on any event: moderation, handing an event to another organizer.
STAFF_ACTIONS = frozenset({Action.UNPUBLISH, Action.REASSIGN})


def user_is_staff(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def user_can_create_events(user) -> bool:
    """Organizers (granted by staff) and staff may create events."""
    return bool(user.is_authenticated and user.is_active and (user.is_organizer or user.is_staff))


def user_can_manage_event(user, event: EventPost) -> bool:
    """The event's own organizer, while they hold the role, and staff."""
    if user_is_staff(user):
        return True
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_organizer
        and event.organizer_id == user.pk
    )


def user_can(user, action: Action, event: EventPost) -> bool:
    try:
        event_check_access(user=user, event=event, action=action)
    except (ActionForbidden, EventNotFound, NotAuthenticated):
        return False
    return True


def event_check_access(*, user, event: EventPost, action: Action) -> None:
    """Raise unless the user may take the action on the event.

    EventNotFound for a draft the user may not manage, NotAuthenticated for anonymous users
    on anything beyond viewing, ActionForbidden otherwise.
    """
    if action == Action.VIEW and event.status != EventPost.Status.DRAFT:
        return
    allowed = user_is_staff(user) if action in STAFF_ACTIONS else user_can_manage_event(user, event)
    if allowed:
        return
    if event.status == EventPost.Status.DRAFT:
        raise EventNotFound()
    if not user.is_authenticated:
        raise NotAuthenticated()
    if action in STAFF_ACTIONS:
        raise ActionForbidden("Only staff can do this.")
    raise ActionForbidden()


def event_check_create(*, user) -> None:
    if not user.is_authenticated:
        raise NotAuthenticated()
    if not user_can_create_events(user):
        raise ActionForbidden(
            "Only organizers can create events. You can ask for the organizer role on your "
            "account page."
        )


def event_get_authorized(*, event_id: int, user, action: Action) -> EventPost:
    """The event, when it exists and the user may take the action on it; raises otherwise."""
    event = (
        EventPost.objects.select_related("category", "organizer", "cancelled_by")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        raise EventNotFound()
    event_check_access(user=user, event=event, action=action)
    return event
