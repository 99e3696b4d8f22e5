"""Check-in at the door: the roster search, one tap, walk-ins, undo, the record, live counts."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from escore.models import ScoreEntry
from events import selectors, services
from events.models import AttendanceRecord, EventPost, EventRegistration
from events.tickets import ticket_check_in_path, ticket_token
from tests.factories import EventPostFactory, OrganizerFactory, UserFactory

from .test_concurrency import assert_counters_exact

pytestmark = pytest.mark.django_db
API = "/api/v1"
Status = EventRegistration.Status


@pytest.fixture
def organizer():
    return OrganizerFactory(display_name="Dana Organizer")


def event_now(organizer, **fields) -> EventPost:
    """An event that started ten minutes ago: check-in is open."""
    starts_at = timezone.now() - dt.timedelta(minutes=10)
    fields.setdefault("capacity", 20)
    return EventPostFactory(
        organizer=organizer,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        **fields,
    )


def seat(event, user=None, status=Status.CONFIRMED) -> EventRegistration:
    """A registration with the event's counters kept right, as the services keep them."""
    registration = EventRegistration.objects.create(
        event=event, user=user or UserFactory(), status=status
    )
    if status == Status.CONFIRMED:
        event.seats_taken += 1
    elif status == Status.WAITLISTED:
        event.waitlist_count += 1
    EventPost.objects.filter(pk=event.pk).update(
        seats_taken=event.seats_taken, waitlist_count=event.waitlist_count
    )
    return registration


# --- the door page ---------------------------------------------------------------------------


def test_door_search_finds_by_name_or_email_and_one_tap_checks_in(client, organizer):
    event = event_now(organizer)
    bear = seat(event, UserFactory(display_name="Bear Brookings", email="bbear@wustl.edu"))
    seat(event, UserFactory(display_name="Ada Lovelace"))
    client.force_login(organizer)
    door = reverse("events:door", args=[event.pk])

    by_name = client.get(door, {"q": "bear"})
    by_email = client.get(door, {"q": "BBEAR@"})
    assert [r.pk for r in by_name.context["results"]] == [bear.pk]
    assert [r.pk for r in by_email.context["results"]] == [bear.pk]
    assert "Ada Lovelace" not in by_name.content.decode()

    response = client.post(
        reverse("events:manual-check-in", args=[bear.pk]), {"back": "door"}, follow=True
    )
    assert response.redirect_chain[-1][0] == door
    assert "Bear Brookings is checked in." in response.content.decode()
    bear.refresh_from_db()
    assert bear.checked_in_at is not None
    assert response.context["counts"]["checked_in"] == 1
    assert [r.pk for r in response.context["latest"]] == [bear.pk]
    record = AttendanceRecord.objects.get()
    assert (record.action, record.method, record.by) == ("checked_in", "door", organizer)


def test_door_page_queries_stay_bounded(client, organizer, django_assert_max_num_queries):
    event = event_now(organizer, capacity=None)
    for number in range(30):
        registration = seat(event, UserFactory(display_name=f"Student {number}"))
        if number % 2:
            registration.checked_in_at = timezone.now()
            registration.save()
    client.force_login(organizer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("events:door", args=[event.pk]), {"q": "student"})
    assert len(response.context["results"]) == selectors.DOOR_SEARCH_LIMIT
    # Seated and not yet in come first: they are the ones the organizer is looking for.
    first = response.context["results"][0]
    assert first.checked_in_at is None


def test_door_partial_returns_only_the_results(client, organizer):
    event = event_now(organizer)
    seat(event, UserFactory(display_name="Bear Brookings"))
    client.force_login(organizer)
    response = client.get(reverse("events:door", args=[event.pk]), {"q": "bear", "partial": "1"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="door-results">')
    assert "Bear Brookings" in page
    assert "<html" not in page


def test_only_the_organizer_and_staff_open_the_door_page(client, organizer):
    event = event_now(organizer)
    client.force_login(UserFactory())
    assert client.get(reverse("events:door", args=[event.pk])).status_code == 403
    assert client.get(reverse("events:code-screen", args=[event.pk])).status_code == 403
    response = client.post(reverse("events:walk-in", args=[event.pk]), {"email": "x@wustl.edu"})
    assert response.status_code == 403
    client.logout()
    response = client.get(reverse("events:door", args=[event.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- walk-ins --------------------------------------------------------------------------------


def test_a_walk_in_with_a_school_account_is_seated_and_checked_in(client, organizer, side_effects):
    event = event_now(organizer, capacity=5)
    student = UserFactory(email="walkin@wustl.edu", display_name="Walk In")
    client.force_login(organizer)
    door = reverse("events:door", args=[event.pk])

    offer = client.get(door, {"q": "WalkIn@wustl.edu"})
    assert offer.context["walk_in_email"] == "walkin@wustl.edu"
    assert "Add walk-in: walkin@wustl.edu" in offer.content.decode()

    with side_effects(execute=True):
        response = client.post(
            reverse("events:walk-in", args=[event.pk]), {"email": "WalkIn@wustl.edu"}, follow=True
        )
    assert "Walk In is checked in." in response.content.decode()
    registration = EventRegistration.objects.get(event=event, user=student)
    assert (registration.status, registration.walk_in) == (Status.CONFIRMED, True)
    assert registration.checked_in_at is not None
    assert_counters_exact(event)
    assert event.seats_beyond_capacity == 0
    assert sorted(ScoreEntry.objects.filter(user=student).values_list("reason", "points")) == [
        ("attended", 10),
        ("new_category", 5),
    ]
    record = AttendanceRecord.objects.get(registration=registration)
    assert (record.method, record.by) == ("walk_in", organizer)


def test_a_full_room_takes_walk_ins_only_when_the_organizer_allows_it(organizer):
    event = event_now(organizer, capacity=2)
    seat(event)
    seat(event)
    student = UserFactory()

    with pytest.raises(services.EventFull, match="All 2 seats are taken"):
        services.walk_in_check_in(event_id=event.pk, email=student.email, by=organizer)
    assert not EventRegistration.objects.filter(user=student).exists()

    services.event_update(event_id=event.pk, by=organizer, walk_ins_beyond_capacity=True)
    outcome = services.walk_in_check_in(event_id=event.pk, email=student.email, by=organizer)
    assert outcome.changed
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken, event.seats_beyond_capacity) == (2, 3, 1)
    assert event.seats_left == 0
    assert_counters_exact(event)
    # The capacity still cannot drop below the seats taken within it.
    with pytest.raises(services.EventInvalid):
        services.event_update(event_id=event.pk, by=organizer, capacity=1)
    services.event_update(event_id=event.pk, by=organizer, title="Still fine")


def test_a_waitlisted_or_released_student_walks_in_when_there_is_room(organizer):
    event = event_now(organizer, capacity=1)
    seat(event)
    waiting = seat(event, status=Status.WAITLISTED)
    services.event_update(event_id=event.pk, by=organizer, walk_ins_beyond_capacity=True)

    services.walk_in_check_in(event_id=event.pk, email=waiting.user.email, by=organizer)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.walk_in) == (Status.CONFIRMED, True)
    assert waiting.checked_in_at is not None
    assert_counters_exact(event)
    assert event.waitlist_count == 0


def test_a_walk_in_who_holds_a_seat_is_just_checked_in(organizer):
    event = event_now(organizer)
    registration = seat(event)
    outcome = services.walk_in_check_in(
        event_id=event.pk, email=registration.user.email.upper(), by=organizer
    )
    assert outcome.registration.pk == registration.pk
    registration.refresh_from_db()
    assert registration.walk_in is False
    assert registration.checked_in_at is not None
    assert AttendanceRecord.objects.get().method == "door"
    again = services.walk_in_check_in(
        event_id=event.pk, email=registration.user.email, by=organizer
    )
    assert again.changed is False
    assert_counters_exact(event)


@pytest.mark.parametrize(
    ("email", "error", "message"),
    [
        ("nobody@wustl.edu", services.NoAccount, "Nobody has an E-Ren account with"),
        ("someone@gmail.com", services.NotEligible, "Walk-ins need a school account"),
        ("unconfirmed@wustl.edu", services.EmailUnverified, "has not confirmed their e-mail"),
    ],
)
def test_walk_ins_without_a_confirmed_school_account_are_told_what_to_do(
    client, organizer, email, error, message
):
    UserFactory(email="unconfirmed@wustl.edu", email_verified=False)
    UserFactory(email="someone@gmail.com")
    event = event_now(organizer)
    with pytest.raises(error, match=message):
        services.walk_in_check_in(event_id=event.pk, email=email, by=organizer)
    client.force_login(organizer)
    response = client.post(
        reverse("events:walk-in", args=[event.pk]), {"email": email}, follow=True
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not EventRegistration.objects.exists()


def test_walk_ins_only_inside_the_check_in_window(organizer):
    starts_at = timezone.now() + dt.timedelta(hours=3)
    event = EventPostFactory(
        organizer=organizer, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=1)
    )
    with pytest.raises(services.CheckInClosed, match="Check-in opens"):
        services.walk_in_check_in(event_id=event.pk, email=UserFactory().email, by=organizer)


# --- undo ------------------------------------------------------------------------------------


def test_undo_is_recorded_and_reversed_in_the_ledger_never_deleted(organizer, side_effects):
    event = event_now(organizer)
    registration = seat(event)
    student = registration.user
    with side_effects(execute=True):
        services.registration_check_in(registration_id=registration.pk, by=organizer)
    with side_effects(execute=True):
        services.registration_check_in_undo(registration_id=registration.pk, by=organizer)
    with side_effects(execute=True):
        services.registration_check_in(registration_id=registration.pk, by=organizer)

    ledger = list(
        ScoreEntry.objects.filter(user=student, reason__startswith="attended")
        .order_by("pk")
        .values_list("reason", "points", "generation")
    )
    assert ledger == [("attended", 10, 1), ("attended_reversed", -10, 1), ("attended", 10, 2)]
    records = list(
        AttendanceRecord.objects.filter(registration=registration).values_list("action", "by")
    )
    assert records == [
        ("checked_in", organizer.pk),
        ("undone", organizer.pk),
        ("checked_in", organizer.pk),
    ]


def test_undo_after_check_in_closed_is_refused(client, organizer):
    starts_at = timezone.now() - dt.timedelta(hours=10)
    event = EventPostFactory(
        organizer=organizer, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2)
    )
    registration = seat(event)
    registration.checked_in_at = starts_at
    registration.save()
    with pytest.raises(services.CheckInClosed, match="Check-in closed"):
        services.registration_check_in_undo(registration_id=registration.pk, by=organizer)
    client.force_login(organizer)
    response = client.post(reverse("events:check-in-undo", args=[registration.pk]), follow=True)
    assert "Check-in closed six hours after the end" in response.content.decode()
    registration.refresh_from_db()
    assert registration.checked_in_at == starts_at


def test_only_organizers_who_may_check_in_may_undo(organizer):
    event = event_now(organizer)
    registration = seat(event)
    services.registration_check_in(registration_id=registration.pk, by=organizer)
    for stranger in (UserFactory(), OrganizerFactory(), registration.user):
        with pytest.raises(services.ActionForbidden):
            services.registration_check_in_undo(registration_id=registration.pk, by=stranger)
    registration.refresh_from_db()
    assert registration.checked_in_at is not None


# --- settings ----------------------------------------------------------------------------------


def test_check_in_settings_are_saved_from_the_door_page(client, organizer):
    event = event_now(organizer)
    client.force_login(organizer)
    url = reverse("events:check-in-settings", args=[event.pk])
    response = client.post(
        url,
        {
            "walk_ins_beyond_capacity": "on",
            "release_no_shows": "on",
            "no_show_grace_minutes": "15",
            "check_in_radius_m": "150",
        },
        follow=True,
    )
    assert "Check-in settings saved." in response.content.decode()
    event.refresh_from_db()
    assert (
        event.walk_ins_beyond_capacity,
        event.release_no_shows,
        event.no_show_grace_minutes,
        event.check_in_radius_m,
    ) == (True, True, 15, 150)

    response = client.post(url, {"no_show_grace_minutes": "500", "check_in_radius_m": "5"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.no_show_grace_minutes, event.check_in_radius_m) == (15, 150)
    # A blank grace is the default.
    client.post(url, {"no_show_grace_minutes": ""})
    event.refresh_from_db()
    assert (event.no_show_grace_minutes, event.walk_ins_beyond_capacity) == (10, False)


# --- live counts and the API -------------------------------------------------------------------


def test_counts_are_polled_from_a_small_cached_endpoint(client, organizer):
    event = event_now(organizer, capacity=10)
    first = seat(event)
    seat(event)
    seat(event, status=Status.WAITLISTED)
    client.force_login(organizer)
    url = f"{API}/events/{event.pk}/checkins/counts"

    assert client.get(url).json() == {
        "checked_in": 0,
        "confirmed": 2,
        "waitlisted": 1,
        "capacity": 10,
    }
    services.registration_check_in(registration_id=first.pk, by=organizer)
    assert client.get(url).json()["checked_in"] == 0  # cached for a few seconds
    cache.delete(selectors.check_in_counts_key(event.pk))
    assert client.get(url).json()["checked_in"] == 1

    client.force_login(UserFactory())
    assert client.get(url).status_code == 403


def test_api_door_check_in_walk_in_and_undo(client, organizer):
    event = event_now(organizer, capacity=10)
    registration = seat(event, UserFactory(display_name="Bear Brookings"))
    walk_in = UserFactory(email="walk@wustl.edu")
    other_event = event_now(organizer)
    stranger = seat(other_event)
    client.force_login(organizer)
    checkins = f"{API}/events/{event.pk}/checkins"

    found = client.get(checkins, {"q": "bear"}).json()
    assert [r["registration_id"] for r in found["results"]] == [registration.pk]
    assert found["counts"]["confirmed"] == 1

    tapped = client.post(checkins, {"registration_id": registration.pk}, "application/json")
    assert tapped.status_code == 200
    assert tapped.json()["already_checked_in"] is False
    again = client.post(checkins, {"registration_id": registration.pk}, "application/json")
    assert again.json()["already_checked_in"] is True

    added = client.post(checkins, {"email": "walk@wustl.edu"}, "application/json").json()
    assert added["walk_in"] is True
    assert EventRegistration.objects.get(user=walk_in).checked_in_at is not None

    latest = client.get(checkins).json()["results"]
    assert {r["registration_id"] for r in latest} == {registration.pk, added["registration_id"]}

    undone = client.delete(f"{checkins}/{registration.pk}")
    assert undone.json() == {
        "registration_id": registration.pk,
        "event_id": event.pk,
        "name": "Bear Brookings",
        "undone": True,
    }
    registration.refresh_from_db()
    assert registration.checked_in_at is None

    # Another event's registration through this event's path: not found.
    response = client.post(checkins, {"registration_id": stranger.pk}, "application/json")
    assert response.status_code == 404
    assert client.delete(f"{checkins}/{stranger.pk}").status_code == 404
    for body in ({}, {"registration_id": registration.pk, "email": "walk@wustl.edu"}):
        response = client.post(checkins, body, "application/json")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid"
    response = client.post(checkins, {"email": "ghost@wustl.edu"}, "application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "no_account")


def test_api_walk_in_to_a_full_event_is_a_conflict_with_a_reason(client, organizer):
    event = event_now(organizer, capacity=1)
    seat(event)
    client.force_login(organizer)
    response = client.post(
        f"{API}/events/{event.pk}/checkins", {"email": UserFactory().email}, "application/json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "event_full"


def test_api_check_in_is_for_organizers_only(client, organizer):
    event = event_now(organizer)
    registration = seat(event)
    client.force_login(registration.user)
    checkins = f"{API}/events/{event.pk}/checkins"
    assert client.get(checkins).status_code == 403
    response = client.post(checkins, {"registration_id": registration.pk}, "application/json")
    assert response.status_code == 403
    response = client.post(checkins, {"email": registration.user.email}, "application/json")
    assert response.status_code == 403
    assert client.delete(f"{checkins}/{registration.pk}").status_code == 403
    registration.refresh_from_db()
    assert registration.checked_in_at is None


def test_a_scanned_ticket_is_recorded_as_such_on_the_page_and_the_api(client, organizer):
    event = event_now(organizer)
    by_page, by_api = seat(event), seat(event)
    client.force_login(organizer)
    client.post(ticket_check_in_path(by_page))
    client.post(f"{API}/checkins", {"token": ticket_token(by_api)}, "application/json")
    methods = dict(AttendanceRecord.objects.values_list("registration_id", "method"))
    assert methods == {by_page.pk: "ticket", by_api.pk: "ticket"}


def test_the_release_before_this_one_can_still_insert_rows(organizer):
    """During a canary the old code writes without the new columns: their database defaults
    fill them in (docs/deploy.md, "Safe migrations")."""
    event = event_now(organizer)
    student = UserFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_eventregistration (event_id, user_id, status, registered_at,"
            " created_at, updated_at) VALUES (%s, %s, 'waitlisted', now(), now(), now())",
            [event.pk, student.pk],
        )
    registration = EventRegistration.objects.get(user=student)
    assert (registration.walk_in, registration.released_at, registration.guests) == (
        False,
        None,
        0,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_eventpost (title, description, location_name, address,"
            " geocode_status, starts_at, ends_at, status, cancellation_reason, seats_taken,"
            " waitlist_count, created_at, updated_at, category_id, organizer_id)"
            " SELECT title, description, location_name, address, geocode_status, starts_at,"
            " ends_at, status, cancellation_reason, 0, 0, now(), now(), category_id,"
            " organizer_id FROM events_eventpost WHERE id = %s RETURNING id",
            [event.pk],
        )
        (new_id,) = cursor.fetchone()
    assert EventPost.objects.filter(pk=new_id).values_list(
        "seats_beyond_capacity",
        "walk_ins_beyond_capacity",
        "release_no_shows",
        "no_show_grace_minutes",
        "registration_required",
        "guests_max",
        "mode",
        "join_url",
    ).get() == (0, False, False, 10, True, 0, "in_person", "")
