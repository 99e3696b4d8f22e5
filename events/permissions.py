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

from django.db.models import Exists, OuterRef, Q

from orgs.models import Membership, Officer, Organization
from users.selectors import (
    user_has_verified_school_email,
    verified_email_exists,
    verified_school_email_remember,
)

from .errors import ActionForbidden, EventNotFound, NotAuthenticated
from .models import EventPost, EventQuestion


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
        allowed = ORG_EVENT_ROLES.get(action, frozenset())
        if action not in COHOST_EVENT_ACTIONS:
            return org_role(user, event.organization_id) in allowed
        # The host's officers by role, any officer of a co-host: one query for both (the
        # event page asks for every signed-in reader whether to offer "Manage this event").
        cohost = Exists(
            EventPost.cohosts.through.objects.filter(
                eventpost_id=event.pk, organization_id=OuterRef("organization_id")
            )
        )
        officer_rows = (
            Officer.objects.filter(user=user)
            .annotate(is_cohost=cohost)
            .filter(Q(organization_id=event.organization_id) | Q(is_cohost=True))
            .values_list("organization_id", "role", "is_cohost")
        )
        return any(
            is_cohost or (organization_id == event.organization_id and role in allowed)
            for organization_id, role, is_cohost in officer_rows
        )
    return bool(user.is_organizer and event.organizer_id == user.pk)


def user_can(user, action: Action, event: EventPost) -> bool:
    """Whether event_check_access would let the user take the action (without working out
    the refusal's words, which cost a query of their own)."""
    if action == Action.VIEW and event.status != EventPost.Status.DRAFT:
        try:
            event_check_visibility(user=user, event=event)
        except (ActionForbidden, EventNotFound, NotAuthenticated):
            return False
        return True
    if action in STAFF_ACTIONS:
        return user_is_staff(user)
    return user_can_manage_event(user, event, action)


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


def event_get_authorized(
    *, event_id: int, user, action: Action, for_page: bool = False
) -> EventPost:
    """The event, when it exists and the user may take the action on it; raises otherwise.

    `for_page`: the row also says whether the event asks registration questions
    (`has_questions`) and has co-hosts (`has_cohosts`), so the event's page reads either
    only when there is something to read, and whether the signed-in reader's address is
    confirmed (users.selectors.verified_email_exists), asked with the row.
    """
    events = EventPost.objects.select_related(
        "category", "organizer", "cancelled_by", "organization"
    ).defer("search_vector")  # the search's own column, the biggest of the row
    if for_page:
        events = events.annotate(
            has_questions=Exists(EventQuestion.objects.filter(event_id=OuterRef("pk"))),
            has_cohosts=Exists(
                EventPost.cohosts.through.objects.filter(eventpost_id=OuterRef("pk"))
            ),
        )
        if user.is_authenticated:
            # The reader's confirmed address with the row, not in a statement of its own:
            # the page asks it (school-only events, the offer to register) on every view.
            events = events.annotate(reader_email_verified=verified_email_exists(user=user))
    event = events.filter(pk=event_id).first()
    verified = getattr(event, "reader_email_verified", None)
    if verified is not None:
        verified_school_email_remember(user=user, verified=verified)
    if event is None:
        raise EventNotFound()
    event_check_access(user=user, event=event, action=action)
    return event
