"""Registration as organizers run it: windows, drop-in events, a cancellation deadline, guests."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from escore.models import ScoreEntry
from events import services
from events.models import EventPost, EventRegistration
from tests.factories import EventPostFactory, OrganizerFactory, UserFactory

from .test_concurrency import assert_counters_exact
from .test_organizer import form_data, local

pytestmark = pytest.mark.django_db
API = "/api/v1"
Status = EventRegistration.Status


def hours(count: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(hours=count)


# --- windows ---------------------------------------------------------------------------------


def test_registration_only_inside_its_window(client):
    student = UserFactory()
    client.force_login(student)
    early = EventPostFactory(registration_opens_at=hours(2))
    closed = EventPostFactory(registration_closes_at=hours(-1), starts_at=hours(24))

    response = client.post(f"{API}/events/{early.pk}/registration")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "registration_not_open_yet"
    assert "Registration opens" in response.json()["error"]["message"]
    page = client.get(early.get_absolute_url()).content.decode()
    assert "Registration opens" in page
    assert 'action="/events/' not in page.split("Your registration")[1].split("</section>")[0]

    with pytest.raises(services.EventClosed, match="Registration closed"):
        services.registration_create(event_id=closed.pk, user=student)
    assert not EventRegistration.objects.exists()

    EventPost.objects.filter(pk=early.pk).update(registration_opens_at=hours(-1))
    assert client.post(f"{API}/events/{early.pk}/registration").status_code == 201


def test_cancelling_stops_at_the_deadline(client):
    student = UserFactory()
    client.force_login(student)
    event = EventPostFactory(starts_at=hours(48), cancellation_deadline=hours(24))
    services.registration_create(event_id=event.pk, user=student)
    EventPost.objects.filter(pk=event.pk).update(cancellation_deadline=hours(-1))

    response = client.delete(f"{API}/events/{event.pk}/registration")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cancellation_closed"
    page = client.post(reverse("events:cancel", args=[event.pk]), follow=True).content.decode()
    assert "The deadline for cancelling was" in page
    assert EventRegistration.objects.get().status == Status.CONFIRMED


def test_drop_in_events_take_no_registration_but_check_in_still_scores(client, side_effects):
    organizer = OrganizerFactory()
    starts_at = timezone.now() - dt.timedelta(minutes=5)
    event = EventPostFactory(
        organizer=organizer,
        registration_required=False,
        capacity=None,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
    )
    student = UserFactory()
    client.force_login(student)

    response = client.post(f"{API}/events/{event.pk}/registration")
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "registration_not_needed",
    )
    assert "Not needed: just come" in client.get(event.get_absolute_url()).content.decode()
    assert client.get(f"{API}/events/{event.pk}").json()["registration_required"] is False

    with side_effects(execute=True):
        services.walk_in_check_in(event_id=event.pk, email=student.email, by=organizer)
    assert ScoreEntry.objects.filter(user=student, reason="attended").exists()


def test_windows_that_close_before_they_open_are_form_errors_and_422(client):
    organizer = OrganizerFactory()
    client.force_login(organizer)
    starts_at = timezone.now() + dt.timedelta(days=5)
    response = client.post(
        reverse("events:create"),
        form_data(
            starts_at=local(starts_at),
            ends_at=local(starts_at + dt.timedelta(hours=2)),
            registration_opens_at=local(starts_at - dt.timedelta(days=1)),
            registration_closes_at=local(starts_at - dt.timedelta(days=2)),
            guests_max="11",
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["registration_closes_at"] == ["Registration must close after it opens."]
    assert "guests_max" in errors
    # The service says the same to the API, and nothing is saved either way.
    response = client.post(
        f"{API}/events",
        {
            "title": "Chess",
            "category": EventPostFactory().category.slug,
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + dt.timedelta(hours=2)).isoformat(),
            "location_name": "Olin",
            "registration_closes_at": (starts_at + dt.timedelta(hours=3)).isoformat(),
            "cancellation_deadline": (starts_at + dt.timedelta(hours=1)).isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"registration_closes_at"}
    assert EventPost.objects.filter(title="Chess").count() == 0


def test_organizer_sets_windows_drop_in_and_guests_on_the_form(client):
    organizer = OrganizerFactory()
    client.force_login(organizer)
    starts_at = timezone.now() + dt.timedelta(days=5)
    client.post(
        reverse("events:create"),
        form_data(
            starts_at=local(starts_at),
            ends_at=local(starts_at + dt.timedelta(hours=2)),
            registration_opens_at=local(starts_at - dt.timedelta(days=3)),
            registration_closes_at=local(starts_at - dt.timedelta(hours=1)),
            cancellation_deadline=local(starts_at - dt.timedelta(days=1)),
            guests_max="2",
        ),
    )
    event = EventPost.objects.get()
    assert event.guests_max == 2
    assert event.registration_required is True
    assert event.registration_closes_at == (starts_at - dt.timedelta(hours=1)).replace(
        second=0, microsecond=0
    )
    response = client.post(
        reverse("events:edit", args=[event.pk]),
        {**form_data(starts_at=local(starts_at), ends_at=local(event.ends_at)), "drop_in": "on"},
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.registration_required, event.registration_opens_at, event.guests_max) == (
        False,
        None,
        0,
    )


# --- guests ----------------------------------------------------------------------------------


def test_guests_take_seats_and_the_waitlist_works_in_seats(client):
    event = EventPostFactory(capacity=4, guests_max=2)
    party, solo, late = UserFactory.create_batch(3)
    client.force_login(party)

    response = client.post(
        f"{API}/events/{event.pk}/registration", {"guests": 3}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"guests": ["You may bring at most 2 guests."]}
    page = client.post(reverse("events:register", args=[event.pk]), {"guests": "2"}, follow=True)
    assert "You're registered with 2 guests." in page.content.decode()

    # One seat left: a party of three waits, and the solo student behind them waits too.
    other = UserFactory()
    services.registration_create(event_id=event.pk, user=other, guests=0)
    services.registration_create(event_id=event.pk, user=solo, guests=2)
    services.registration_create(event_id=event.pk, user=late, guests=0)
    assert_counters_exact(event)
    assert (event.seats_taken, event.waitlist_count) == (4, 4)

    # One seat frees up: not enough for the party of three at the head, and nobody jumps it.
    services.registration_cancel(event_id=event.pk, user=other)
    assert EventRegistration.objects.get(user=late).status == Status.WAITLISTED
    # The first party leaves: the party of three and the student behind it both fit now.
    services.registration_cancel(event_id=event.pk, user=party)
    assert EventRegistration.objects.get(user=solo).status == Status.CONFIRMED
    assert EventRegistration.objects.get(user=late).status == Status.CONFIRMED
    assert_counters_exact(event)
    assert (event.seats_taken, event.waitlist_count) == (4, 0)
