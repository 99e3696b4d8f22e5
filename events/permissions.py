"""Who may do what with an event or an organization: the one place that decides, for pages
and API alike.

Views and API endpoints load the event through `event_get_authorized`; services check again
with `event_check_access`, so a new entry point cannot forget the rule. Drafts are private:
to anyone who may not manage the event a draft answers like a missing event (404), while a
published or cancelled event answers 403, since its existence is public anyway.

Organizations (orgs): an event an organization hosts is run by the host's officers, each
as far as their role goes (ORG_EVENT_ROLES); officers of a co-host may check in and see the
roster. The person who created it keeps no rights of their own over it, so an officer who
graduates leaves nothing orphaned. Who may view a published event depends on its
visibility: public and unlisted (link only) for everyone, school accounts only, members of
the host only (`event_check_visibility`); listings show only `listable_visibilities`.

Per role of the host (P president, O officer, E event manager, C a co-host's officer):
edit the organization P O; officers P; members and their roster P O; create, edit and
publish its events P O E; cancel them P O; check in and the roster P O E C; message P O E.
"""

from enum import StrEnum

from orgs.models import Membership, Officer, Organization
from users.selectors import user_has_verified_school_email

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


class OrgAction(StrEnum):
    EDIT = "edit"
    OFFICERS = "officers"
    MEMBERS = "members"
    CREATE_EVENT = "create_event"


Role = Officer.Role
ORG_ROLES: dict[OrgAction, frozenset[str]] = {
    OrgAction.EDIT: frozenset({Role.PRESIDENT, Role.OFFICER}),
    OrgAction.OFFICERS: frozenset({Role.PRESIDENT}),
    OrgAction.MEMBERS: frozenset({Role.PRESIDENT, Role.OFFICER}),
    OrgAction.CREATE_EVENT: frozenset({Role.PRESIDENT, Role.OFFICER, Role.EVENT_MANAGER}),
}
_EVERY_ROLE = frozenset(Role.values)
# What each role of the host may do to the host's events.
ORG_EVENT_ROLES: dict[Action, frozenset[str]] = {
    Action.EDIT: _EVERY_ROLE,
    Action.PUBLISH: _EVERY_ROLE,
    Action.CANCEL: frozenset({Role.PRESIDENT, Role.OFFICER}),
    Action.ROSTER: _EVERY_ROLE,
    Action.EXPORT: _EVERY_ROLE,
    Action.CHECK_IN: _EVERY_ROLE,
    Action.MESSAGE: _EVERY_ROLE,
    Action.VIEW: _EVERY_ROLE,
}
COHOST_EVENT_ACTIONS = frozenset({Action.VIEW, Action.ROSTER, Action.CHECK_IN})
_ORG_REFUSALS = {
    OrgAction.EDIT: "Only the organization's president and officers can edit it.",
    OrgAction.OFFICERS: "Only the organization's president can manage its officers.",
    OrgAction.MEMBERS: "Only the organization's president and officers can manage its members.",
    OrgAction.CREATE_EVENT: "Only the organization's officers can create events for it.",
}


def org_role(user, organization_id: int | None) -> str | None:
    """The user's officer role in the organization, or None."""
    if organization_id is None or not (user.is_authenticated and user.is_active):
        return None
    # Not cached on the user: a role changed in this request must count at once.
    return (
        Officer.objects.filter(organization_id=organization_id, user=user)
        .values_list("role", flat=True)
        .first()
    )


def org_user_can(user, action: OrgAction, organization: Organization) -> bool:
    if user_is_staff(user):
        return True
    return org_role(user, organization.pk) in ORG_ROLES[action]


def org_check_access(*, user, organization: Organization, action: OrgAction) -> None:
    """Raise unless the user may take the action on the organization."""
    if org_user_can(user, action, organization):
        return
    if not user.is_authenticated:
        raise NotAuthenticated()
    raise ActionForbidden(_ORG_REFUSALS[action])


def org_user_is_member(user, organization_id: int | None) -> bool:
    """An approved member, or an officer (officers see what members see)."""
    if organization_id is None or not user.is_authenticated:
        return False
    if org_role(user, organization_id) is not None:
        return True
    return Membership.objects.filter(
        organization_id=organization_id, user=user, status=Membership.Status.APPROVED
    ).exists()


def organizations_hosting_for(user) -> list[Organization]:
    """Approved organizations the user may create events for (staff: every approved one)."""
    organizations = Organization.objects.filter(status=Organization.Status.APPROVED)
    if not user_is_staff(user):
        organizations = organizations.filter(
            officers__user=user, officers__role__in=ORG_ROLES[OrgAction.CREATE_EVENT]
        )
    return list(organizations.order_by("name"))


Visibility = EventPost.Visibility


def listable_visibilities(user) -> tuple[str, ...]:
    """Visibilities that event listings (home, search, API, feeds) show to this user.

    Members-only and unlisted events are never listed in them: members find theirs on the
    organization's page, and an unlisted event only by its link.
    """
    if user.is_authenticated and user.is_active and user_has_verified_school_email(user=user):
        return (Visibility.PUBLIC, Visibility.SCHOOL)
    return (Visibility.PUBLIC,)


def event_check_visibility(*, user, event: EventPost) -> None:
    """Raise unless the user may see this (published or cancelled) event."""
    if event.visibility in {Visibility.PUBLIC, Visibility.UNLISTED}:
        return
    if user_can_manage_event(user, event, Action.VIEW):
        return
    if not user.is_authenticated:
        raise NotAuthenticated()
    if event.visibility == Visibility.SCHOOL:
        if user.is_active and user_has_verified_school_email(user=user):
            return
        raise ActionForbidden("Only students and staff with a school account can see this event.")
    if org_user_is_member(user, event.organization_id):
        return
    host = event.organization.name if event.organization else "the organization"
    raise ActionForbidden(f"This event is for members of {host} only. Join it to see the event.")


def user_is_staff(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def user_can_create_events(user) -> bool:
    """Organizers (granted by staff) and staff may create events of their own."""
    return bool(user.is_authenticated and user.is_active and (user.is_organizer or user.is_staff))


def user_can_manage_event(user, event: EventPost, action: Action = Action.EDIT) -> bool:
    """Staff; for an organization's event, its officers by role (and co-hosts' officers for
    check-in and the roster); otherwise the event's own organizer, while they hold the role."""
    if user_is_staff(user):
        return True
    if not (user.is_authenticated and user.is_active):
        return False
    if event.organization_id is not None:
        if org_role(user, event.organization_id) in ORG_EVENT_ROLES.get(action, ()):
            return True
        return action in COHOST_EVENT_ACTIONS and (
            Officer.objects.filter(user=user, organization__cohosted_events=event).exists()
        )
    return bool(user.is_organizer and event.organizer_id == user.pk)


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
        event_check_visibility(user=user, event=event)
        return
    if action in STAFF_ACTIONS:
        allowed = user_is_staff(user)
    else:
        allowed = user_can_manage_event(user, event, action)
    if allowed:
        return
    if event.status == EventPost.Status.DRAFT and not user_can_manage_event(
        user, event, Action.VIEW
    ):
        raise EventNotFound()
    if not user.is_authenticated:
        raise NotAuthenticated()
    if action in STAFF_ACTIONS:
        raise ActionForbidden("Only staff can do this.")
    if event.organization_id is not None and org_role(user, event.organization_id):
        raise ActionForbidden("Your officer role in the hosting organization does not allow this.")
    raise ActionForbidden()


def event_check_create(*, user, organization: Organization | None = None) -> None:
    if not user.is_authenticated:
        raise NotAuthenticated()
    if organization is not None:
        if not organization.is_approved:
            raise ActionForbidden("This organization is waiting for staff approval.")
        org_check_access(user=user, organization=organization, action=OrgAction.CREATE_EVENT)
        return
    if not user_can_create_events(user):
        raise ActionForbidden(
            "Only organizers can create events. You can ask for the organizer role on your "
            "account page."
        )


def event_get_authorized(*, event_id: int, user, action: Action) -> EventPost:
    """The event, when it exists and the user may take the action on it; raises otherwise."""
    event = (
        EventPost.objects.select_related("category", "organizer", "cancelled_by", "organization")
        .defer("search_vector")  # the search's own column, the biggest of the row
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        raise EventNotFound()
    event_check_access(user=user, event=event, action=action)
    return event
