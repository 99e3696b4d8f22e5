"""Self check-in with the rotating event code: valid, expired, forged, another event's,
replayed, outside the window, the location check, the pages and the API."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from escore.models import ScoreEntry
from events import check_in_codes, services
from events.check_in_codes import PERIOD_SECONDS, code_current, code_for
from events.models import AttendanceRecord, EventPost, EventRegistration
from events.places import CAMPUS_PLACES, distance_m
from tests.factories import EventPostFactory, UserFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"
Status = EventRegistration.Status
OLIN = CAMPUS_PLACES["olin-library"]
SIMON = CAMPUS_PLACES["simon"]


def event_now(**fields) -> EventPost:
    starts_at = timezone.now() - dt.timedelta(minutes=5)
    fields.setdefault("capacity", 20)
    return EventPostFactory(
        starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), **fields
    )


def window_now() -> int:
    return int(timezone.now().timestamp()) // PERIOD_SECONDS


def current(event: EventPost) -> str:
    return code_current(event_id=event.pk, now=timezone.now()).code


def seated(event: EventPost, user=None) -> EventRegistration:
    registration = EventRegistration.objects.create(
        event=event, user=user or UserFactory(), status=Status.CONFIRMED
    )
    EventPost.objects.filter(pk=event.pk).update(seats_taken=event.seats_taken + 1)
    event.seats_taken += 1
    return registration


# --- the code --------------------------------------------------------------------------------


def test_codes_are_six_unambiguous_characters_that_change_every_window():
    codes = {code_for(event_id=7, window=window) for window in range(1000, 1100)}
    assert len(codes) == 100
    assert all(len(code) == 6 and set(code) <= set(check_in_codes.ALPHABET) for code in codes)
    assert not set("ILOU") & set("".join(codes))
    assert code_for(event_id=7, window=1000) != code_for(event_id=8, window=1000)


def test_codes_depend_on_the_secret_key(settings):
    before = code_for(event_id=7, window=1000)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert code_for(event_id=7, window=1000) != before


def test_typing_mistakes_are_forgiven():
    assert check_in_codes.code_normalize(" ab-c o1l ") == "ABC011"


def test_code_shown_expires_at_the_next_window_and_links_to_the_self_check_in_page():
    event = event_now()
    now = timezone.now()
    code = code_current(event_id=event.pk, now=now)
    assert 0 < (code.expires_at - now).total_seconds() <= PERIOD_SECONDS
    query = parse_qs(urlsplit(code.path).query)
    assert urlsplit(code.path).path == reverse("events:self-check-in")
    assert query == {"event": [str(event.pk)], "code": [code.code]}


# --- checking in -----------------------------------------------------------------------------


def test_a_seated_student_checks_in_once_with_the_current_code(side_effects):
    event = event_now()
    registration = seated(event)
    student = registration.user

    with side_effects(execute=True):
        first = services.check_in_by_code(user=student, code=current(event), event_id=event.pk)
    # Replayed: the same code, or a typed one, by the same account: nothing more.
    with side_effects(execute=True):
        again = services.check_in_by_code(user=student, code=current(event).lower())
    assert (first.changed, again.changed) == (True, False)
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    assert registration.walk_in is False
    assert ScoreEntry.objects.filter(user=student, reason="attended").count() == 1
    record = AttendanceRecord.objects.get()
    assert (record.method, record.by) == ("code", student)


def test_the_previous_windows_code_still_works_older_ones_have_expired():
    event = event_now()
    students = UserFactory.create_batch(3)
    for student in students:
        seated(event, student)
    window = window_now()
    previous = code_for(event_id=event.pk, window=window - 1)
    assert services.check_in_by_code(user=students[0], code=previous, event_id=event.pk).changed
    expired = code_for(event_id=event.pk, window=window - 3)
    with pytest.raises(services.CheckInCodeExpired, match="changes every 30 seconds"):
        services.check_in_by_code(user=students[1], code=expired, event_id=event.pk)
    with pytest.raises(services.CheckInCodeExpired):
        services.check_in_by_code(user=students[1], code=expired)  # typed, no event named
    assert EventRegistration.objects.filter(checked_in_at__isnull=False).count() == 1


@pytest.mark.parametrize("code", ["ZZZZZZ", "ABC", "", "<script>", "ÄÖÜ123", "1" * 500])
def test_forged_and_malformed_codes_are_refused(code):
    event = event_now()
    registration = seated(event)
    with pytest.raises(services.CheckInCodeInvalid):
        services.check_in_by_code(user=registration.user, code=code, event_id=event.pk)
    with pytest.raises(services.CheckInCodeInvalid):
        services.check_in_by_code(user=registration.user, code=code)
    assert not EventRegistration.objects.filter(checked_in_at__isnull=False).exists()


def test_another_events_code_is_named_and_refused():
    here = event_now(title="Chess night")
    there = event_now(title="Poetry slam")
    registration = seated(here)
    with pytest.raises(services.CheckInCodeOtherEvent, match="“Poetry slam”, not for this event"):
        services.check_in_by_code(user=registration.user, code=current(there), event_id=here.pk)
    registration.refresh_from_db()
    assert registration.checked_in_at is None


def test_a_code_outside_the_check_in_window_earns_nothing():
    later = timezone.now() + dt.timedelta(hours=3)
    event = EventPostFactory(starts_at=later, ends_at=later + dt.timedelta(hours=1))
    registration = seated(event)
    with pytest.raises(services.CheckInClosed, match="Check-in opens"):
        services.check_in_by_code(user=registration.user, code=current(event), event_id=event.pk)
    # Typed without the event: no event with check-in open has this code.
    with pytest.raises(services.CheckInCodeInvalid):
        services.check_in_by_code(user=registration.user, code=current(event))
    with pytest.raises(services.CheckInClosed):
        services.check_in_code_show(event_id=event.pk, by=event.organizer)


def test_cancelled_and_draft_events_show_no_code():
    cancelled = event_now(status=EventPost.Status.CANCELLED, cancellation_reason="Rain")
    draft = event_now(status=EventPost.Status.DRAFT)
    with pytest.raises(services.EventCancelled):
        services.check_in_code_show(event_id=cancelled.pk, by=cancelled.organizer)
    with pytest.raises(services.EventStateConflict, match="Publish the event"):
        services.check_in_code_show(event_id=draft.pk, by=draft.organizer)
    with pytest.raises(services.EventCancelled):
        services.check_in_by_code(
            user=UserFactory(), code=current(cancelled), event_id=cancelled.pk
        )


def test_an_unregistered_student_is_a_walk_in_while_seats_are_free():
    event = event_now(capacity=1)
    first, second = UserFactory(), UserFactory()
    outcome = services.check_in_by_code(user=first, code=current(event))
    assert outcome.registration.walk_in
    with pytest.raises(services.EventFull, match="Ask the organizer at the door"):
        services.check_in_by_code(user=second, code=current(event))
    event.refresh_from_db()
    assert (event.seats_taken, event.seats_beyond_capacity) == (1, 0)

    services.event_update(event_id=event.pk, by=event.organizer, walk_ins_beyond_capacity=True)
    assert services.check_in_by_code(user=second, code=current(event)).changed
    event.refresh_from_db()
    assert (event.seats_taken, event.seats_beyond_capacity) == (2, 1)


def test_unconfirmed_accounts_cannot_check_in_with_a_code():
    event = event_now()
    with pytest.raises(services.EmailUnverified):
        services.check_in_by_code(user=UserFactory(email_verified=False), code=current(event))


# --- the location check ------------------------------------------------------------------------


def test_distance_on_campus_is_about_right():
    # Olin Library to Simon Hall: roughly 400 m across the Danforth campus.
    metres = distance_m(OLIN.latitude, OLIN.longitude, SIMON.latitude, SIMON.longitude)
    assert 300 < metres < 500


def test_the_location_check_needs_the_phone_near_the_event():
    event = event_now(latitude=OLIN.latitude, longitude=OLIN.longitude, check_in_radius_m=150)
    student = seated(event).user
    code = current(event)
    with pytest.raises(services.LocationRequired, match="allow this page to use your location"):
        services.check_in_by_code(user=student, code=code, event_id=event.pk)
    far = services.Position(latitude=SIMON.latitude, longitude=SIMON.longitude, accuracy_m=20)
    with pytest.raises(services.TooFarAway, match=r"about \d+ m from Danforth"):
        services.check_in_by_code(user=student, code=code, event_id=event.pk, position=far)
    # A vague fix counts in the student's favour, but only up to 100 m.
    vague = services.Position(latitude=SIMON.latitude, longitude=SIMON.longitude, accuracy_m=5000)
    with pytest.raises(services.TooFarAway):
        services.check_in_by_code(user=student, code=code, event_id=event.pk, position=vague)
    near = services.Position(latitude=OLIN.latitude + 0.0005, longitude=OLIN.longitude)
    assert services.check_in_by_code(user=student, code=code, event_id=event.pk, position=near)


def test_the_location_check_without_the_event_on_the_map_says_so():
    event = event_now(check_in_radius_m=150)
    student = seated(event).user
    here = services.Position(latitude=OLIN.latitude, longitude=OLIN.longitude)
    with pytest.raises(services.LocationRequired, match="not on the map yet"):
        services.check_in_by_code(user=student, code=current(event), position=here)


# --- pages -------------------------------------------------------------------------------------


def test_the_qr_link_fills_in_the_form_and_changes_nothing_until_the_tap(client):
    event = event_now()
    registration = seated(event)
    client.force_login(registration.user)
    code = code_current(event_id=event.pk, now=timezone.now())

    page = client.get(code.path)
    assert page.status_code == 200
    assert f'value="{code.code}"' in page.content.decode()
    registration.refresh_from_db()
    assert registration.checked_in_at is None

    response = client.post(reverse("events:self-check-in"), {"code": code.code, "event": event.pk})
    assert response.status_code == 200
    assert "You're checked in." in response.content.decode()
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    again = client.post(reverse("events:self-check-in"), {"code": code.code})
    assert "You were already checked in" in again.content.decode()


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("", 422, "Type the six characters"),
        ("ZZZZZZ", 422, "This code is not valid"),
    ],
)
def test_the_page_says_what_is_wrong_with_a_code(client, code, status, message):
    event = event_now()
    client.force_login(seated(event).user)
    response = client.post(reverse("events:self-check-in"), {"code": code, "event": event.pk})
    assert response.status_code == status
    assert message in response.content.decode()


def test_the_page_asks_for_the_location_when_the_event_checks_it(client):
    event = event_now(latitude=OLIN.latitude, longitude=OLIN.longitude, check_in_radius_m=150)
    client.force_login(seated(event).user)
    code = code_current(event_id=event.pk, now=timezone.now())
    page = client.get(code.path).content.decode()
    assert 'data-needs-location="1"' in page
    refused = client.post(reverse("events:self-check-in"), {"code": code.code})
    assert refused.status_code == 422
    assert 'data-needs-location="1"' in refused.content.decode()
    response = client.post(
        reverse("events:self-check-in"),
        {"code": code.code, "latitude": OLIN.latitude, "longitude": OLIN.longitude, "accuracy": 30},
    )
    assert "You're checked in." in response.content.decode()


def test_anonymous_students_log_in_and_come_back_to_the_filled_in_form(client):
    event = event_now()
    code = code_current(event_id=event.pk, now=timezone.now())
    response = client.get(code.path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=" in response["Location"]


def test_guessing_codes_is_rate_limited(client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "check_in_code_user": "3/m"}
    event = event_now()
    client.force_login(seated(event).user)
    url = reverse("events:self-check-in")
    statuses = [client.post(url, {"code": "ZZZZZZ"}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    api = client.post(f"{API}/events/{event.pk}/code", {"code": "ZZZZZZ"}, "application/json")
    assert api.status_code == 429
    assert api.json()["error"]["code"] == "rate_limited"


def test_the_code_screen_shows_the_code_and_its_qr(client):
    event = event_now(check_in_radius_m=150)
    client.force_login(event.organizer)
    response = client.get(reverse("events:code-screen", args=[event.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["code"].code in page
    assert "<svg" in page
    assert "not on the map yet" in page
    assert '<meta http-equiv="refresh"' in page  # inside <noscript>


def test_the_code_screen_outside_the_window_says_when(client):
    later = timezone.now() + dt.timedelta(days=1)
    event = EventPostFactory(starts_at=later, ends_at=later + dt.timedelta(hours=1))
    client.force_login(event.organizer)
    response = client.get(reverse("events:code-screen", args=[event.pk]))
    assert response.status_code == 409
    assert "Check-in opens an hour before the start" in response.content.decode()


# --- API ---------------------------------------------------------------------------------------


def test_api_shows_the_code_to_organizers_and_takes_it_from_students(client):
    event = event_now()
    registration = seated(event)
    client.force_login(event.organizer)
    shown = client.get(f"{API}/events/{event.pk}/code").json()
    assert shown["code"] == current(event) or shown["code"] == code_for(
        event_id=event.pk, window=window_now() - 1
    )
    assert shown["period_seconds"] == 30
    assert shown["url"].endswith(f"event={event.pk}&code={shown['code']}")
    assert shown["qr_svg"].startswith("<svg")

    client.force_login(registration.user)
    assert client.get(f"{API}/events/{event.pk}/code").status_code == 403
    url = f"{API}/events/{event.pk}/code"
    first = client.post(url, {"code": shown["code"]}, "application/json")
    again = client.post(url, {"code": shown["code"]}, "application/json")
    assert first.status_code == 200
    assert (first.json()["already_checked_in"], again.json()["already_checked_in"]) == (False, True)


@pytest.mark.parametrize(
    ("age", "error_code"),
    [(5, "code_expired"), (None, "code_invalid")],
)
def test_api_refuses_expired_and_forged_codes_with_their_code(client, age, error_code):
    event = event_now()
    client.force_login(seated(event).user)
    code = "ZZZZZZ" if age is None else code_for(event_id=event.pk, window=window_now() - age)
    response = client.post(f"{API}/events/{event.pk}/code", {"code": code}, "application/json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == error_code
    assert not ScoreEntry.objects.exists()


def test_api_other_events_code_and_the_location(client):
    here = event_now(latitude=OLIN.latitude, longitude=OLIN.longitude, check_in_radius_m=100)
    there = event_now()
    client.force_login(seated(here).user)
    url = f"{API}/events/{here.pk}/code"
    response = client.post(url, {"code": current(there)}, "application/json")
    assert response.json()["error"]["code"] == "code_other_event"
    response = client.post(url, {"code": current(here)}, "application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (422, "location_required")
    far = {"code": current(here), "latitude": SIMON.latitude, "longitude": SIMON.longitude}
    response = client.post(url, far, "application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "too_far")
    near = {"code": current(here), "latitude": OLIN.latitude, "longitude": OLIN.longitude}
    assert client.post(url, near, "application/json").status_code == 200
    bad = {"code": current(here), "latitude": 91, "longitude": 0}
    assert client.post(url, bad, "application/json").status_code == 422
