"""Score disputes: a student disputes a missing entry; the organizer or staff decide."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from escore import services
from escore.models import ScoreDispute, ScoreEntry
from events.models import AttendanceRecord
from tests.conftest import sign_in
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    OrganizerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _past_event(*, days_ago: float = 1, **kwargs):
    starts = timezone.now() - dt.timedelta(days=days_ago)
    return EventPostFactory(starts_at=starts, ends_at=starts + dt.timedelta(hours=2), **kwargs)


def _messages(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def test_accepted_dispute_credits_the_student_once_and_says_who_decided(client, side_effects):
    organizer = OrganizerFactory(display_name="Robin Organizer")
    event = _past_event(title="Jazz Night", organizer=organizer)
    student = UserFactory()
    registration = EventRegistrationFactory(event=event, user=student)
    client.force_login(student)

    page = client.get(reverse("escore:mine"))
    assert [e.pk for e in page.context["dispute_events"]] == [event.pk]
    response = client.post(
        reverse("escore:dispute-create"),
        {"event_id": event.pk, "note": "I sat in the second row."},
        follow=True,
    )
    assert "Your dispute about “Jazz Night” is sent" in _messages(response)
    dispute = ScoreDispute.objects.get()
    assert (dispute.status, dispute.note) == ("pending", "I sat in the second row.")
    assert page.context["dispute_events"]  # offered before; not any more (one open at a time)
    assert client.get(reverse("escore:mine")).context["dispute_events"] == []

    # The organizer sees it, from the dashboard, and accepts it.
    client.force_login(organizer)
    assert "1 open" in client.get(reverse("events:organize")).content.decode()
    assert "Jazz Night" in client.get(reverse("escore:disputes")).content.decode()
    with side_effects(execute=True):
        client.post(reverse("escore:dispute-accept", args=[dispute.pk]))
        client.post(reverse("escore:dispute-accept", args=[dispute.pk]))  # twice: harmless
    services.dispute_accept(dispute_id=dispute.pk, by=organizer)

    entry = ScoreEntry.objects.get(user=student, reason="attended")
    assert (entry.reason, entry.points) == ("attended", 10)
    assert entry.note == "Dispute accepted by Robin Organizer"
    assert ScoreEntry.objects.filter(user=student, reason="new_category").count() == 1
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    record = AttendanceRecord.objects.get(registration=registration)
    assert (record.method, record.by) == ("dispute", organizer)
    dispute.refresh_from_db()
    assert (dispute.status, dispute.decided_by) == ("accepted", organizer)
    # The student is told once, and sees the decision with the entry.
    assert [m.subject for m in mail.outbox] == ["Your dispute was accepted: Jazz Night"]
    client.force_login(student)
    page = client.get(reverse("escore:mine")).content.decode()
    assert "Dispute accepted by Robin Organizer" in page
    assert "Accepted" in page


def test_rejection_needs_a_reason_and_the_student_reads_it(client, side_effects):
    event = _past_event(title="Chess Night")
    student = UserFactory()
    EventRegistrationFactory(event=event, user=student)
    dispute = services.dispute_create(user=student, event_id=event.pk)

    client.force_login(event.organizer)
    response = client.post(reverse("escore:dispute-reject", args=[dispute.pk]), follow=True)
    assert "Say why the dispute is rejected" in _messages(response)
    with side_effects(execute=True):
        client.post(
            reverse("escore:dispute-reject", args=[dispute.pk]),
            {"reason": "You left before it started."},
        )
    dispute.refresh_from_db()
    assert (dispute.status, dispute.decision_reason) == ("rejected", "You left before it started.")
    assert not ScoreEntry.objects.filter(user=student).exists()
    assert "You left before it started." in mail.outbox[0].body
    with pytest.raises(services.DisputeRefused, match="rejected already"):
        services.dispute_accept(dispute_id=dispute.pk, by=event.organizer)
    client.force_login(student)
    assert "You left before it started." in client.get(reverse("escore:mine")).content.decode()
    # A rejected dispute is closed: the student may file a new one.
    assert services.dispute_create(user=student, event_id=event.pk).status == "pending"


def test_disputes_refused_with_a_clear_reason(client):
    student = UserFactory()
    client.force_login(student)
    never = _past_event(title="Never Registered")
    old = _past_event(title="Old Gala", days_ago=31)
    EventRegistrationFactory(event=old, user=student)
    upcoming = EventPostFactory(title="Tomorrow Talk")
    EventRegistrationFactory(event=upcoming, user=student)
    attended = _past_event(title="Attended Talk")
    EventRegistrationFactory(event=attended, user=student, checked_in_at=attended.starts_at)
    cancelled = _past_event(
        title="Rained Out", status="cancelled", cancellation_reason="Thunderstorm."
    )
    EventRegistrationFactory(event=cancelled, user=student)
    open_one = _past_event(title="Open Mic")
    EventRegistrationFactory(event=open_one, user=student)
    services.dispute_create(user=student, event_id=open_one.pk)
    draft = _past_event(title="Draft", status="draft")

    cases = [
        (never.pk, "You never registered for “Never Registered”"),
        (old.pk, "“Old Gala” ended more than 30 days ago"),
        (upcoming.pk, "has not started yet"),
        (attended.pk, "You were checked in to “Attended Talk”"),
        (cancelled.pk, "“Rained Out” was cancelled"),
        (open_one.pk, "You already have an open dispute for “Open Mic”"),
        (draft.pk, "There is no such event."),
        (2**31 - 1, "There is no such event."),
        ("abc", "Enter a whole number."),
        ("", "Choose the event you attended."),
    ]
    for event_id, message in cases:
        response = client.post(
            reverse("escore:dispute-create"), {"event_id": event_id}, follow=True
        )
        assert response.status_code == 200
        assert message in _messages(response), event_id
    assert ScoreDispute.objects.count() == 1


def test_only_the_events_organizer_or_staff_decide(client):
    event = _past_event()
    student = UserFactory()
    EventRegistrationFactory(event=event, user=student)
    dispute = services.dispute_create(user=student, event_id=event.pk)
    other_organizer = OrganizerFactory()

    client.force_login(other_organizer)
    assert dispute.event.title not in client.get(reverse("escore:disputes")).content.decode()
    assert client.post(reverse("escore:dispute-accept", args=[dispute.pk])).status_code == 403
    client.force_login(student)
    assert client.get(reverse("escore:disputes")).status_code == 403
    assert client.post(reverse("escore:dispute-accept", args=[dispute.pk])).status_code == 403
    assert client.post(reverse("escore:dispute-accept", args=[999_999])).status_code == 404
    assert ScoreDispute.objects.get().status == "pending"

    sign_in(client, UserFactory(is_staff=True))
    assert event.title in client.get(reverse("escore:disputes")).content.decode()
    client.post(reverse("escore:dispute-accept", args=[dispute.pk]))
    assert ScoreEntry.objects.filter(user=student, reason="attended").count() == 1


def test_a_seat_lost_to_the_no_show_release_can_be_disputed_and_given_back():
    event = _past_event(capacity=1)
    student = UserFactory()
    released_at = event.starts_at + dt.timedelta(minutes=15)
    EventRegistrationFactory(
        event=event,
        user=student,
        status="cancelled",
        cancelled_at=released_at,
        released_at=released_at,
    )
    EventRegistrationFactory(event=event)  # the seat went to someone else
    event.__class__.objects.filter(pk=event.pk).update(seats_taken=1)
    dispute = services.dispute_create(user=student, event_id=event.pk)
    services.dispute_accept(dispute_id=dispute.pk, by=event.organizer)
    assert ScoreEntry.objects.filter(user=student, reason="attended").count() == 1
    event.refresh_from_db()
    assert (event.seats_taken, event.seats_beyond_capacity) == (2, 1)


def test_dispute_creation_is_rate_limited(client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "dispute_user": "2/h"}
    client.force_login(UserFactory())
    statuses = [
        client.post(reverse("escore:dispute-create"), {"event_id": 1}).status_code for _ in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_a_dispute_whose_seat_was_cancelled_meanwhile_cannot_be_accepted():
    event = _past_event()
    student = UserFactory()
    registration = EventRegistrationFactory(event=event, user=student)
    dispute = services.dispute_create(user=student, event_id=event.pk)
    registration.status, registration.cancelled_at = "cancelled", timezone.now()
    registration.save()
    with pytest.raises(services.DisputeRefused, match="no longer holds a registration"):
        services.dispute_accept(dispute_id=dispute.pk, by=event.organizer)
    assert not ScoreEntry.objects.filter(user=student).exists()
    registration.refresh_from_db()
    assert registration.status == "cancelled"
