"""Tickets and check-in: signed tokens, the window, organizers only, harmless repeats."""

import datetime as dt

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import EventRegistration
from events.tickets import ticket_check_in_path, ticket_registration_get, ticket_token
from tests.factories import EventPostFactory, OrganizerFactory, UserFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def organizer():
    return OrganizerFactory()


def event_starting_in(organizer, delta: dt.timedelta, hours: int = 2):
    starts_at = timezone.now() + delta
    return EventPostFactory(
        organizer=organizer, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=hours)
    )


def registered(event, user=None) -> EventRegistration:
    return EventRegistration.objects.create(
        event=event, user=user or UserFactory(), status=EventRegistration.Status.CONFIRMED
    )


def test_ticket_page_shows_a_qr_code_of_the_check_in_link(client):
    registration = registered(EventPostFactory())
    client.force_login(registration.user)
    response = client.get(reverse("events:ticket", args=[registration.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in page
    # The token embeds its signing time, so compare what it names, not its text.
    token = response.context["check_in_url"].rstrip("/").rsplit("/", 1)[-1]
    assert ticket_registration_get(token) == registration


def test_tickets_are_private_to_their_student(client):
    registration = registered(EventPostFactory())
    client.force_login(UserFactory())
    assert client.get(reverse("events:ticket", args=[registration.pk])).status_code == 404
    client.logout()
    response = client.get(reverse("events:ticket", args=[registration.pk]))
    assert response.status_code == 302


def test_organizer_scans_and_checks_in_once(client, organizer):
    registration = registered(event_starting_in(organizer, dt.timedelta(minutes=30)))
    client.force_login(organizer)
    url = ticket_check_in_path(registration)

    page = client.get(url)
    assert page.status_code == 200
    assert registration.user.get_full_name() in page.content.decode()
    registration.refresh_from_db()
    assert registration.checked_in_at is None  # opening the link changes nothing

    assert "Checked in." in client.post(url).content.decode()
    registration.refresh_from_db()
    first = registration.checked_in_at
    assert first is not None

    # A reused ticket: harmless, says so, keeps the first time.
    assert "Already checked in" in client.post(url).content.decode()
    registration.refresh_from_db()
    assert registration.checked_in_at == first


@pytest.mark.parametrize(
    ("delta", "hours", "message"),
    [
        (dt.timedelta(hours=2), 2, "Check-in opens an hour before the start"),
        (dt.timedelta(hours=-9), 2, "Check-in closed six hours after the end"),
    ],
)
def test_check_in_outside_the_window_says_when_it_is_open(client, organizer, delta, hours, message):
    registration = registered(event_starting_in(organizer, delta, hours))
    client.force_login(organizer)
    response = client.post(ticket_check_in_path(registration))
    assert response.status_code == 409
    assert message in response.content.decode()
    registration.refresh_from_db()
    assert registration.checked_in_at is None


@pytest.mark.parametrize(
    ("delta", "hours"),
    [
        (dt.timedelta(minutes=59), 1),  # just inside the hour before
        (dt.timedelta(hours=-7, minutes=-50), 2),  # 5 h 50 after the end
    ],
)
def test_check_in_window_edges_are_open(organizer, delta, hours):
    registration = registered(event_starting_in(organizer, delta, hours))
    outcome = services.registration_check_in(registration_id=registration.pk, by=organizer)
    assert outcome.changed


def test_forged_and_mangled_tokens_are_refused(client, organizer):
    registration = registered(event_starting_in(organizer, dt.timedelta(minutes=10)))
    client.force_login(organizer)
    token = ticket_token(registration)
    forged = signing.dumps([registration.pk, 0], salt="events.tickets.check-in.v1", key="guess")
    other_salt = signing.dumps([registration.pk, 0])
    for bad in [token[:-2] + "xx", forged, other_salt, "1", "x" * 600]:
        response = client.get(reverse("events:check-in", kwargs={"token": bad}))
        assert response.status_code == 404, bad
        assert "This ticket is not valid" in response.content.decode()
    registration.refresh_from_db()
    assert registration.checked_in_at is None


def test_ticket_of_a_cancelled_then_renewed_registration_expires(client, organizer):
    event = event_starting_in(organizer, dt.timedelta(days=1))
    student = UserFactory()
    registration = services.registration_create(event_id=event.pk, user=student)
    old_token = ticket_token(registration)
    services.registration_cancel(event_id=event.pk, user=student)
    renewed = services.registration_create(event_id=event.pk, user=student)
    assert renewed.pk == registration.pk
    client.force_login(organizer)
    response = client.post(f"{API}/checkins", {"token": old_token}, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ticket_invalid"
    assert ticket_token(renewed) != old_token


def test_another_organizers_ticket_is_refused(client, organizer):
    theirs = registered(event_starting_in(OrganizerFactory(), dt.timedelta(minutes=10)))
    client.force_login(organizer)
    response = client.post(ticket_check_in_path(theirs))
    assert response.status_code == 403
    assert "Only this event&#x27;s organizers" in response.content.decode()
    response = client.post(
        f"{API}/checkins", {"token": ticket_token(theirs)}, content_type="application/json"
    )
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.checked_in_at is None


def test_the_student_opening_their_own_link_is_told_to_show_it(client, organizer):
    registration = registered(event_starting_in(organizer, dt.timedelta(minutes=10)))
    client.force_login(registration.user)
    response = client.post(ticket_check_in_path(registration))
    assert response.status_code == 403
    assert "Show this code at the door" in response.content.decode()


def test_anonymous_scanner_is_sent_to_log_in_and_back(client, organizer):
    registration = registered(event_starting_in(organizer, dt.timedelta(minutes=10)))
    url = ticket_check_in_path(registration)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=" in response["Location"]


def test_waitlisted_and_cancelled_registrations_cannot_check_in(organizer):
    event = event_starting_in(organizer, dt.timedelta(minutes=10))
    waiting = EventRegistration.objects.create(
        event=event, user=UserFactory(), status=EventRegistration.Status.WAITLISTED
    )
    with pytest.raises(services.EventStateConflict, match="waitlisted"):
        services.registration_check_in(registration_id=waiting.pk, by=organizer)


def test_api_check_in_reports_repeats(client, organizer):
    registration = registered(event_starting_in(organizer, dt.timedelta(minutes=10)))
    client.force_login(organizer)
    body = {"token": ticket_token(registration)}
    first = client.post(f"{API}/checkins", body, content_type="application/json").json()
    again = client.post(f"{API}/checkins", body, content_type="application/json").json()
    assert first["already_checked_in"] is False
    assert again["already_checked_in"] is True
    assert first["checked_in_at"] == again["checked_in_at"]
    response = client.post(f"{API}/checkins", {"token": ""}, content_type="application/json")
    assert response.status_code == 404


def test_manual_check_in_and_undo_from_the_roster(client, organizer):
    registration = registered(event_starting_in(organizer, dt.timedelta(minutes=10)))
    client.force_login(organizer)
    client.post(reverse("events:manual-check-in", args=[registration.pk]))
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    roster = client.get(reverse("events:manage", args=[registration.event_id]))
    assert len(roster.context["roster"]["checked_in"]) == 1

    client.post(reverse("events:check-in-undo", args=[registration.pk]))
    client.post(reverse("events:check-in-undo", args=[registration.pk]))  # harmless
    registration.refresh_from_db()
    assert registration.checked_in_at is None


def test_checked_in_student_can_no_longer_cancel(organizer):
    event = event_starting_in(organizer, dt.timedelta(minutes=50))
    student = UserFactory()
    registration = services.registration_create(event_id=event.pk, user=student)
    services.registration_check_in(registration_id=registration.pk, by=organizer)
    with pytest.raises(services.AlreadyCheckedIn):
        services.registration_cancel(event_id=event.pk, user=student)


def test_the_ticket_is_offered_in_one_place_only_while_it_can_be_used(client):
    """Event page, My events, the ticket page and the API agree: a confirmed seat at a
    published event, until the student is checked in. (My events used to link the ticket of
    a checked-in student, to a page without a code.)"""
    event = EventPostFactory(capacity=10)
    registration = registered(event)
    client.force_login(registration.user)
    ticket_url = reverse("events:ticket", args=[registration.pk])

    def offered() -> tuple[bool, bool, bool, bool]:
        mine = client.get(f"{API}/me/registrations").json()
        return (
            ticket_url in client.get(event.get_absolute_url()).content.decode(),
            ticket_url in client.get(reverse("events:mine")).content.decode(),
            "<svg" in client.get(ticket_url).content.decode(),
            mine[0]["ticket_available"],
        )

    assert offered() == (True, True, True, True)

    registration.checked_in_at = timezone.now()
    registration.save(update_fields=["checked_in_at"])
    assert offered() == (False, False, False, False)
    assert "Checked in at" in client.get(ticket_url).content.decode()


def test_cancelling_is_offered_by_the_same_rule_the_service_applies(client):
    event = EventPostFactory(capacity=10)
    registration = registered(event)
    client.force_login(registration.user)
    cancel_url = reverse("events:cancel", args=[event.pk])
    assert registration.may_cancel
    assert cancel_url in client.get(reverse("events:mine")).content.decode()

    registration.checked_in_at = timezone.now()
    registration.save(update_fields=["checked_in_at"])
    registration.refresh_from_db()
    assert not registration.may_cancel
    assert cancel_url not in client.get(reverse("events:mine")).content.decode()
    assert cancel_url not in client.get(event.get_absolute_url()).content.decode()
    with pytest.raises(services.AlreadyCheckedIn):
        services.registration_cancel(event_id=event.pk, user=registration.user)


def test_organizers_cannot_check_themselves_in_for_points(client, organizer):
    event = event_starting_in(organizer, dt.timedelta(minutes=30))
    own = registered(event, user=organizer)
    client.force_login(organizer)
    # By ticket (API and page) and from the roster: refused with a reason, nothing recorded.
    response = client.post(f"{API}/checkins", {"token": ticket_token(own)}, "application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "organizer_not_attendee"
    page = client.post(ticket_check_in_path(own))
    assert page.status_code == 409
    assert "cannot be checked in to their own event" in page.content.decode()
    response = client.post(reverse("events:manual-check-in", args=[own.pk]), follow=True)
    assert "cannot be checked in to their own event" in response.content.decode()
    # Not by staff, nor as a walk-in: the organizer award is what organizing earns.
    staff = UserFactory(is_staff=True)
    with pytest.raises(services.OrganizerNotAttendee):
        services.registration_check_in(registration_id=own.pk, by=staff)
    with pytest.raises(services.OrganizerNotAttendee):
        services.walk_in_check_in(event_id=event.pk, email=organizer.email, by=staff)
    own.refresh_from_db()
    assert own.checked_in_at is None
