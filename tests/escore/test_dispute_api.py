"""Score disputes in the JSON API: the pages' services, permissions and refusals."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from escore import services
from escore.models import ScoreDispute, ScoreEntry
from tests.conftest import sign_in
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    OfficerFactory,
    OrganizationFactory,
    OrganizerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MINE = "/api/v1/me/escore/disputes"
ORGANIZE = "/api/v1/organize/disputes"


def _past_event(*, days_ago: float = 1, **kwargs):
    starts = timezone.now() - dt.timedelta(days=days_ago)
    return EventPostFactory(starts_at=starts, ends_at=starts + dt.timedelta(hours=2), **kwargs)


def _post(client, path: str, data: dict | None = None):
    return client.post(path, data or {}, content_type="application/json")


def test_student_opens_a_dispute_and_the_organizer_accepts_it(client, side_effects):
    organizer = OrganizerFactory(display_name="Robin Organizer")
    event = _past_event(title="Jazz Night", organizer=organizer)
    student = UserFactory(display_name="Sam Student")
    EventRegistrationFactory(event=event, user=student)
    client.force_login(student)

    opened = _post(client, MINE, {"event_id": event.pk, "note": "Second row."})
    assert opened.status_code == 201, opened.content
    body = opened.json()
    assert (body["status"], body["note"], body["event"]["title"]) == (
        "pending",
        "Second row.",
        "Jazz Night",
    )
    assert body["decided_by"] is None
    assert [d["id"] for d in client.get(MINE).json()] == [body["id"]]

    client.force_login(organizer)
    to_decide = client.get(ORGANIZE).json()
    assert [d["id"] for d in to_decide] == [body["id"]]
    assert to_decide[0]["student"]["email"] == student.email
    with side_effects(execute=True):
        accepted = _post(client, f"{ORGANIZE}/{body['id']}/accept")
        again = _post(client, f"{ORGANIZE}/{body['id']}/accept")
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["status"], accepted.json()["decided_by"]) == (
        "accepted",
        "Robin Organizer",
    )
    assert again.status_code == 200
    assert ScoreEntry.objects.filter(user=student, reason="attended").count() == 1
    assert "Your dispute was accepted: Jazz Night" in [m.subject for m in mail.outbox]
    assert client.get(ORGANIZE).json() == []

    client.force_login(student)
    assert client.get(MINE).json()[0]["status"] == "accepted"


def test_rejection_needs_a_reason_and_a_decided_dispute_stays_decided(client):
    event = _past_event()
    student = UserFactory()
    EventRegistrationFactory(event=event, user=student)
    dispute = services.dispute_create(user=student, event_id=event.pk)
    client.force_login(event.organizer)

    blank = _post(client, f"{ORGANIZE}/{dispute.pk}/reject", {"reason": "  "})
    assert blank.status_code == 422
    assert "Say why" in blank.json()["error"]["message"]
    missing = _post(client, f"{ORGANIZE}/{dispute.pk}/reject")
    assert missing.status_code == 422
    assert "reason" in missing.json()["error"]["fields"]

    rejected = _post(client, f"{ORGANIZE}/{dispute.pk}/reject", {"reason": "Not on the list."})
    assert rejected.status_code == 200
    assert rejected.json()["decision_reason"] == "Not on the list."
    late = _post(client, f"{ORGANIZE}/{dispute.pk}/accept")
    assert late.status_code == 409
    assert late.json()["error"]["message"] == "This dispute was rejected already."


def test_refusals_say_why(client):
    student = UserFactory()
    client.force_login(student)
    never = _past_event(title="Never Registered")
    old = _past_event(title="Old Gala", days_ago=31)
    EventRegistrationFactory(event=old, user=student)
    open_one = _past_event(title="Open Mic")
    EventRegistrationFactory(event=open_one, user=student)
    assert _post(client, MINE, {"event_id": open_one.pk}).status_code == 201

    cases = [
        (never.pk, 409, "You never registered for “Never Registered”"),
        (old.pk, 409, "“Old Gala” ended more than 30 days ago"),
        (open_one.pk, 409, "You already have an open dispute for “Open Mic”"),
        (2**31 - 1, 404, "There is no such event."),
    ]
    for event_id, status, message in cases:
        response = _post(client, MINE, {"event_id": event_id})
        assert response.status_code == status, event_id
        assert message in response.json()["error"]["message"]
    for body in ({"event_id": "abc"}, {}, {"event_id": open_one.pk, "note": "x" * 501}):
        assert _post(client, MINE, body).status_code == 422
    assert ScoreDispute.objects.count() == 1


def test_only_the_events_organizers_and_staff_decide(client):
    organization = OrganizationFactory()
    officer = OfficerFactory(organization=organization).user
    event = _past_event(organization=organization)
    student = UserFactory()
    EventRegistrationFactory(event=event, user=student)
    dispute = services.dispute_create(user=student, event_id=event.pk)

    client.force_login(student)
    assert client.get(ORGANIZE).status_code == 403
    assert _post(client, f"{ORGANIZE}/{dispute.pk}/accept").status_code == 403
    client.force_login(OrganizerFactory())
    assert client.get(ORGANIZE).json() == []
    assert _post(client, f"{ORGANIZE}/{dispute.pk}/accept").status_code == 403
    assert _post(client, f"{ORGANIZE}/999999/accept").status_code == 404
    assert ScoreDispute.objects.get().status == "pending"

    client.force_login(officer)
    assert [d["id"] for d in client.get(ORGANIZE).json()] == [dispute.pk]
    sign_in(client, UserFactory(is_staff=True))
    assert [d["id"] for d in client.get(ORGANIZE).json()] == [dispute.pk]
    assert _post(client, f"{ORGANIZE}/{dispute.pk}/accept").json()["status"] == "accepted"


def test_anonymous_requests_answer_401(client):
    assert client.get(MINE).status_code == 401
    assert _post(client, MINE, {"event_id": 1}).status_code == 401
    assert client.get(ORGANIZE).status_code == 401
    assert _post(client, f"{ORGANIZE}/1/accept").status_code == 401
