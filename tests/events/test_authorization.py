"""The authorization matrix: every role against every organizer action, on the pages and the API.

Each case also checks the effect, so "allowed" means the thing happened and a refusal means
nothing changed. Drafts of others answer 404 (their existence is private); published events
answer 403; anonymous visitors go to the login page (pages) or get 401 (API).
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import EventPost, EventRegistration, OrganizerMessage
from events.tickets import ticket_token
from tests.conftest import sign_in
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    OrganizerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"

ROLES = ["anonymous", "unverified", "student", "other_organizer", "owner", "staff"]
ALLOWED, FORBIDDEN, NOT_FOUND, LOGIN = "allowed", 403, 404, "login"


def expected(role: str, *, draft: bool = False, anonymous=LOGIN) -> str | int:
    if role in {"owner", "staff"}:
        return ALLOWED
    if role == "anonymous":
        return anonymous
    return NOT_FOUND if draft else FORBIDDEN


class World:
    def __init__(self) -> None:
        now = timezone.now()
        self.owner = OrganizerFactory(display_name="Owner")
        self.users = {
            "anonymous": None,
            "unverified": UserFactory(email_verified=False),
            "student": UserFactory(),
            "other_organizer": OrganizerFactory(),
            "owner": self.owner,
            "staff": UserFactory(is_staff=True),
        }
        EventPostFactory(organizer=self.users["other_organizer"])
        self.draft = EventPostFactory(organizer=self.owner, status=EventPost.Status.DRAFT)
        # Starts in half an hour: inside the check-in window.
        self.event = EventPostFactory(
            organizer=self.owner,
            starts_at=now + dt.timedelta(minutes=30),
            ends_at=now + dt.timedelta(hours=2),
        )
        self.attendee = EventRegistrationFactory(event=self.event)
        self.arrived = EventRegistrationFactory(event=self.event, checked_in_at=now)


@pytest.fixture
def world():
    return World()


def login(client, world, role):
    if world.users[role] is not None:
        sign_in(client, world.users[role])
    return client


def outcome(response) -> str | int:
    if response.status_code == 302 and reverse("account_login") in response["Location"]:
        return LOGIN
    if response.status_code in (200, 302):
        return ALLOWED
    return response.status_code


# (action, request, whether the event is the draft, check of the effect when allowed)
def _view_draft(client, w):
    return client.get(reverse("events:detail", args=[w.draft.pk]))


def _edit(client, w):
    return client.get(reverse("events:edit", args=[w.event.pk]))


def _publish(client, w):
    return client.post(reverse("events:publish", args=[w.draft.pk]))


def _cancel(client, w):
    return client.post(reverse("events:event-cancel", args=[w.event.pk]), {"reason": "Rain."})


def _roster(client, w):
    return client.get(reverse("events:manage", args=[w.event.pk]))


def _export(client, w):
    return client.get(reverse("events:roster-csv", args=[w.event.pk]))


def _check_in(client, w):
    return client.post(reverse("events:manual-check-in", args=[w.attendee.pk]))


def _undo(client, w):
    return client.post(reverse("events:check-in-undo", args=[w.arrived.pk]))


def _message(client, w):
    return client.post(
        reverse("events:message", args=[w.event.pk]), {"subject": "Room", "body": "Room 101."}
    )


def _published(w):
    return EventPost.objects.get(pk=w.draft.pk).status == "published"


def _cancelled(w):
    return EventPost.objects.get(pk=w.event.pk).status == "cancelled"


def _checked_in(w):
    return EventRegistration.objects.get(pk=w.attendee.pk).checked_in_at is not None


def _undone(w):
    return EventRegistration.objects.get(pk=w.arrived.pk).checked_in_at is None


def _messaged(w):
    return OrganizerMessage.objects.exists()


PAGE_ACTIONS = {
    "view_draft": (_view_draft, True, None),
    "edit": (_edit, False, None),
    "publish": (_publish, True, _published),
    "cancel": (_cancel, False, _cancelled),
    "roster": (_roster, False, None),
    "export": (_export, False, None),
    "check_in": (_check_in, False, _checked_in),
    "undo_check_in": (_undo, False, _undone),
    "message": (_message, False, _messaged),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(PAGE_ACTIONS))
def test_page_authorization_matrix(client, world, role, action):
    make_request, on_draft, effect = PAGE_ACTIONS[action]
    # The public event page shows no draft to anyone who may not manage it, logged in or not;
    # organizer pages send anonymous visitors to log in first, whatever the event.
    anonymous = NOT_FOUND if action == "view_draft" else LOGIN
    want = expected(role, draft=on_draft, anonymous=anonymous)

    response = make_request(login(client, world, role), world)

    assert outcome(response) == want, response
    if effect is not None:
        assert effect(world) is (want == ALLOWED)


def _api_view_draft(client, w):
    return client.get(f"{API}/events/{w.draft.pk}")


def _api_edit(client, w):
    return client.patch(
        f"{API}/events/{w.event.pk}", {"title": "Renamed"}, content_type="application/json"
    )


def _api_publish(client, w):
    return client.post(f"{API}/events/{w.draft.pk}/publish")


def _api_cancel(client, w):
    return client.post(
        f"{API}/events/{w.event.pk}/cancel", {"reason": "Rain."}, content_type="application/json"
    )


def _api_roster(client, w):
    return client.get(f"{API}/events/{w.event.pk}/roster")


def _api_check_in(client, w):
    return client.post(
        f"{API}/checkins", {"token": ticket_token(w.attendee)}, content_type="application/json"
    )


def _renamed(w):
    return EventPost.objects.get(pk=w.event.pk).title == "Renamed"


API_ACTIONS = {
    "view_draft": (_api_view_draft, True, None),
    "edit": (_api_edit, False, _renamed),
    "publish": (_api_publish, True, _published),
    "cancel": (_api_cancel, False, _cancelled),
    "roster": (_api_roster, False, None),
    "check_in": (_api_check_in, False, _checked_in),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(API_ACTIONS))
def test_api_authorization_matrix(client, world, role, action):
    make_request, on_draft, effect = API_ACTIONS[action]
    # GET /events/{id} needs no login; every other call does (401 before anything else).
    want = expected(role, draft=on_draft, anonymous=404 if action == "view_draft" else 401)

    response = make_request(login(client, world, role), world)

    got = ALLOWED if response.status_code in (200, 201) else response.status_code
    assert got == want, response.content
    if got != ALLOWED:
        assert response.json()["error"]["code"] in {"not_found", "forbidden", "not_authenticated"}
    if effect is not None:
        assert effect(world) is (want == ALLOWED)


def test_organizer_whose_role_was_revoked_cannot_manage_their_events(client, world):
    world.owner.is_organizer = False
    world.owner.save()
    client.force_login(world.owner)
    assert client.get(reverse("events:manage", args=[world.event.pk])).status_code == 403
    assert client.get(reverse("events:manage", args=[world.draft.pk])).status_code == 404


@pytest.mark.parametrize("role", ["anonymous", "student", "unverified"])
def test_only_organizers_and_staff_reach_the_organizer_dashboard(client, world, role):
    response = login(client, world, role).get(reverse("events:organize"))
    assert outcome(response) == (LOGIN if role == "anonymous" else FORBIDDEN)
    assert login(client, world, "owner").get(reverse("events:organize")).status_code == 200


def test_staff_can_unpublish_any_event_and_organizers_cannot(client, world):
    client.force_login(world.owner)
    assert client.post(reverse("events:unpublish", args=[world.event.pk])).status_code == 403
    assert EventPost.objects.get(pk=world.event.pk).status == "published"

    sign_in(client, world.users["staff"])
    response = client.post(reverse("events:unpublish", args=[world.event.pk]))
    assert response.status_code == 302
    assert EventPost.objects.get(pk=world.event.pk).status == "draft"
    # Unpublished, it is private again.
    client.force_login(world.users["student"])
    assert client.get(world.event.get_absolute_url()).status_code == 404


def test_staff_cancellation_shows_who_cancelled_and_why(client, world):
    sign_in(client, world.users["staff"])
    client.post(reverse("events:event-cancel", args=[world.event.pk]), {"reason": "Venue unsafe."})
    client.force_login(world.owner)
    page = client.get(reverse("events:manage", args=[world.event.pk])).content.decode()
    assert "Cancelled by staff" in page
    assert "Venue unsafe." in page


# --- Organization roles ----------------------------------------------------------------------
# The same organizer actions on an event an organization hosts, and the organization's own
# actions, for every role in and around it (events/permissions.py has the table).

ORG_ROLES = [
    "anonymous",
    "student",
    "member",
    "event_manager",
    "officer",
    "president",
    "cohost_officer",
    "creator_not_officer",
    "staff",
]
FORM_ERROR = "form_error"
_EVENT_TEAM = {"president", "officer", "event_manager", "staff"}
ORG_EXPECTED = {
    # action: roles allowed (everyone else: 403, or 404 for a draft they may not see)
    "edit": _EVENT_TEAM,
    "publish": _EVENT_TEAM,
    "cancel": {"president", "officer", "staff"},
    "roster": _EVENT_TEAM | {"cohost_officer"},
    "export": _EVENT_TEAM,
    "check_in": _EVENT_TEAM | {"cohost_officer"},
    "message": _EVENT_TEAM,
    "org_edit": {"president", "officer", "staff"},
    "officers_invite": {"president", "staff"},
    "members_roster": {"president", "officer", "staff"},
    "create_event": _EVENT_TEAM,
}


class OrgWorld:
    """The organization, its events, and the one user of the role under test (each case
    builds only its own role's user: the matrix has a hundred cases)."""

    def __init__(self, *roles: str) -> None:
        from orgs.models import Officer
        from tests.factories import MembershipFactory, OfficerFactory, OrganizationFactory

        now = timezone.now()
        self.org = OrganizationFactory(slug="chess")
        cohost = OrganizationFactory(slug="go")
        # Created the events as an organizer, but holds no role in the organization.
        creator = OrganizerFactory()
        make = {
            "anonymous": lambda: None,
            "student": UserFactory,
            "member": lambda: MembershipFactory(organization=self.org).user,
            "event_manager": lambda: (
                OfficerFactory(organization=self.org, role=Officer.Role.EVENT_MANAGER).user
            ),
            "officer": lambda: OfficerFactory(organization=self.org, role="officer").user,
            "president": lambda: OfficerFactory(organization=self.org).user,
            "cohost_officer": lambda: OfficerFactory(organization=cohost).user,
            "creator_not_officer": lambda: creator,
            "staff": lambda: UserFactory(is_staff=True),
        }
        self.users = {role: make[role]() for role in roles}
        self.draft = EventPostFactory(
            organizer=creator, organization=self.org, status=EventPost.Status.DRAFT
        )
        self.event = EventPostFactory(
            organizer=creator,
            organization=self.org,
            starts_at=now + dt.timedelta(minutes=30),
            ends_at=now + dt.timedelta(hours=2),
        )
        self.event.cohosts.add(cohost)
        self.attendee = EventRegistrationFactory(event=self.event)


def _org_edit(client, w):
    return client.get(reverse("orgs:edit", args=[w.org.slug]))


def _officers_invite(client, w):
    return client.post(
        reverse("orgs:officer-invite", args=[w.org.slug]),
        {"email": "new@wustl.edu", "role": "officer"},
    )


def _members_roster(client, w):
    return client.get(reverse("orgs:roster-csv", args=[w.org.slug]))


def _create_event(client, w):
    return client.post(
        reverse("events:create"),
        {
            "organization": w.org.pk,
            "title": "Blitz night",
            "category": w.event.category_id,
            "starts_at": "2031-05-01T18:00",
            "ends_at": "2031-05-01T20:00",
            "location_name": "DUC",
        },
    )


def _invited(w):
    from orgs.models import OfficerInvitation

    return OfficerInvitation.objects.exists()


def _created(w):
    return EventPost.objects.filter(title="Blitz night", organization=w.org).exists()


ORG_ACTIONS = {
    "edit": (_edit, False, None),
    "publish": (_publish, True, _published),
    "cancel": (_cancel, False, _cancelled),
    "roster": (_roster, False, None),
    "export": (_export, False, None),
    "check_in": (_check_in, False, _checked_in),
    "message": (_message, False, _messaged),
    "org_edit": (_org_edit, False, None),
    "officers_invite": (_officers_invite, False, _invited),
    "members_roster": (_members_roster, False, None),
    "create_event": (_create_event, False, _created),
}


@pytest.mark.parametrize("role", ORG_ROLES)
@pytest.mark.parametrize("action", list(ORG_ACTIONS))
def test_org_role_authorization_matrix(client, role, action):
    world = OrgWorld(role)
    make_request, on_draft, effect = ORG_ACTIONS[action]
    if role in ORG_EXPECTED[action]:
        want: str | int = ALLOWED
    elif role == "anonymous":
        want = LOGIN
    elif on_draft:
        want = NOT_FOUND  # the draft is private to its team
    elif action == "create_event" and role in {"cohost_officer", "creator_not_officer"}:
        want = FORM_ERROR  # may create events, but not for an organization they do not run
    else:
        want = FORBIDDEN

    response = make_request(login(client, world, role), world)

    got = outcome(response)
    if got == ALLOWED and response.status_code == 200 and action == "create_event":
        got = FORM_ERROR if not _created(world) else ALLOWED
    assert got == want, response
    if effect is not None:
        assert effect(world) is (want == ALLOWED)
    if want == FORBIDDEN and role != "creator_not_officer":
        # The refusal says why.
        assert b"only" in response.content.lower() or b"role" in response.content.lower()


def test_an_officers_actions_on_the_organizations_event_are_in_its_activity_log(client):
    from orgs.models import OrgActivity

    world = OrgWorld("event_manager")
    sign_in(client, world.users["event_manager"])
    client.post(reverse("events:publish", args=[world.draft.pk]))
    _message(client, world)
    entries = list(OrgActivity.objects.values_list("actor", "action", "event"))
    manager = world.users["event_manager"].pk
    assert (manager, "event_published", world.draft.pk) in entries
    assert (manager, "event_messaged", world.event.pk) in entries
