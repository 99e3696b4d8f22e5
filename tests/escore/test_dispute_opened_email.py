"""A new score dispute is e-mailed to those who decide it, once, through the outbox."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.models import OutboxMessage
from escore import emails, services
from events.models import EmailDelivery
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    OfficerFactory,
    OrganizationFactory,
    OrganizerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _past_event(**kwargs):
    starts = timezone.now() - dt.timedelta(days=1)
    return EventPostFactory(starts_at=starts, ends_at=starts + dt.timedelta(hours=2), **kwargs)


def test_the_organizer_is_told_of_a_new_dispute_once(client, side_effects):
    organizer = OrganizerFactory(display_name="Robin Organizer")
    event = _past_event(title="Jazz Night", organizer=organizer)
    student = UserFactory(display_name="Sam Student")
    EventRegistrationFactory(event=event, user=student)
    client.force_login(student)

    with side_effects(execute=True):
        client.post(reverse("escore:dispute-create"), {"event_id": event.pk, "note": "Second row."})

    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([organizer.email], "A student disputes their attendance: Jazz Night")
    ]
    body = mail.outbox[0].body
    assert "Sam Student says they were at “Jazz Night”" in body
    assert "Their note: Second row." in body
    assert reverse("escore:disputes") in body
    assert EmailDelivery.objects.get().kind == "dispute_opened"

    # Run again (a redelivered task): nothing more is sent.
    row = OutboxMessage.objects.get(task="escore.tasks.dispute_opened_email_send")
    assert emails.dispute_opened_email_send(dispute_id=row.args[0]) == 0
    assert len(mail.outbox) == 1


def test_a_refused_dispute_tells_nobody(side_effects):
    event = _past_event()
    with side_effects(execute=True), pytest.raises(services.DisputeRefused):
        services.dispute_create(user=UserFactory(), event_id=event.pk)

    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_an_organizations_officers_are_told(side_effects):
    organization = OrganizationFactory()
    officers = [
        OfficerFactory(organization=organization, role=role).user
        for role in ("president", "event_manager")
    ]
    OfficerFactory(role="president")  # of another organization
    event = _past_event(organization=organization)
    student = UserFactory()
    EventRegistrationFactory(event=event, user=student)

    with side_effects(execute=True):
        services.dispute_create(user=student, event_id=event.pk)

    assert sorted(address for m in mail.outbox for address in m.to) == sorted(
        officer.email for officer in officers
    )
