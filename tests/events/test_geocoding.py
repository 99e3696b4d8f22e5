"""Geocoding against a real local HTTP server that answers in Google's format."""

import datetime as dt
import logging
import traceback

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core import outbox
from core.models import OutboxMessage
from core.outbox import OutboxTask
from eren.celery import app as celery_app
from events import geocoding, services, tasks
from events.geocoding import GeocodingRetryableError, address_normalise, event_geocode
from events.models import EventPost, GeocodeCache
from events.places import CAMPUS_PLACES
from tests import fake_google
from tests.factories import EventPostFactory, OrganizerFactory

pytestmark = pytest.mark.django_db

API_KEY = "AIza-test-key-never-in-logs-0123456789"
Status = EventPost.GeocodeStatus


@pytest.fixture
def google(settings):
    fake = fake_google.FakeGoogle()
    server = fake_google.serve(fake)
    settings.GOOGLE_MAPS_API_KEY = API_KEY
    settings.GOOGLE_GEOCODING_URL = fake.url
    settings.GOOGLE_GEOCODING_TIMEOUT = 0.5
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_key(settings):
    settings.GOOGLE_MAPS_API_KEY = ""
    # Nothing listens here: a call to Google would fail, not pass quietly.
    settings.GOOGLE_GEOCODING_URL = "http://127.0.0.1:9/unreachable"


def pending_event(**fields) -> EventPost:
    fields.setdefault("location_name", "Olin Library")
    fields.setdefault("address", "1 Brookings Dr, St. Louis, MO 63130")
    fields.setdefault("geocode_status", Status.PENDING)
    return EventPostFactory(**fields)


def exception_report(exception: BaseException) -> str:
    """What Sentry would see: messages, chained exceptions and the app's frame locals."""
    report = traceback.TracebackException.from_exception(exception, capture_locals=True)
    parts = []
    while report is not None:
        parts.append(str(report))
        parts += [repr(frame.locals) for frame in report.stack if "/tests/" not in frame.filename]
        report = report.__cause__ or report.__context__
    return "\n".join(parts)


# --- address_normalise -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Simon Hall,  1 Brookings Dr. ", "simon hall, 1 brookings dr"),
        ("SIMON HALL , 1 Brookings  Dr", "simon hall, 1 brookings dr"),
        ("Knight & Bauer Halls", "knight & bauer halls"),
        ("Suite #5, 6515-A Wydown Blvd", "suite #5, 6515-a wydown blvd"),
        (",, ,", ""),
    ],
)
def test_address_normalise(text, expected):
    assert address_normalise(text) == expected


# --- Google ------------------------------------------------------------------------------


def test_ok_answer_places_the_event(google):
    google.script(fake_google.ok(38.6482, -90.3077))
    event = pending_event()

    assert event_geocode(event_id=event.pk) == Status.FOUND

    event.refresh_from_db()
    assert (event.geocode_status, event.latitude, event.longitude) == (
        Status.FOUND,
        38.6482,
        -90.3077,
    )
    [request] = google.requests
    assert request["_path"] == "/maps/api/geocode/json"
    assert request["address"] == "olin library, 1 brookings dr, st louis, mo 63130"
    assert request["key"] == API_KEY
    assert request["region"] == "us"
    assert request["bounds"] == geocoding.ST_LOUIS_BOUNDS


def test_cache_spends_one_request_per_normalised_address(google):
    google.script(fake_google.ok(38.6497, -90.3113))
    first = pending_event(location_name="Simon Hall", address="1 Brookings Dr.")
    second = pending_event(location_name="  SIMON HALL", address="1 brookings dr")

    assert event_geocode(event_id=first.pk) == Status.FOUND
    assert event_geocode(event_id=second.pk) == Status.FOUND

    assert len(google.requests) == 1
    second.refresh_from_db()
    assert (second.latitude, second.longitude) == (38.6497, -90.3113)
    cached = GeocodeCache.objects.get()
    assert (cached.address, cached.status) == ("simon hall, 1 brookings dr", "found")


def test_running_twice_spends_no_second_request(google):
    google.script(fake_google.ok(38.6482, -90.3077))
    event = pending_event()

    event_geocode(event_id=event.pk)
    assert event_geocode(event_id=event.pk) == Status.FOUND

    assert len(google.requests) == 1
    event.refresh_from_db()
    assert (event.latitude, event.longitude) == (38.6482, -90.3077)


def test_changed_address_is_geocoded_again(google):
    google.script(fake_google.ok(38.6482, -90.3077), fake_google.ok(38.6453, -90.3120))
    event = pending_event()
    event_geocode(event_id=event.pk)

    # The organizer's edit does not reset the status: the changed text alone is enough.
    EventPost.objects.filter(pk=event.pk).update(location_name="Bear's Den", address="")
    assert event_geocode(event_id=event.pk) == Status.FOUND

    event.refresh_from_db()
    assert (event.latitude, event.longitude) == (38.6453, -90.3120)
    assert len(google.requests) == 2


@pytest.mark.parametrize("status", ["ZERO_RESULTS", "REQUEST_DENIED", "INVALID_REQUEST"])
def test_unanswerable_request_marks_location_not_found(google, status):
    google.script(fake_google.error(status, "The provided API key is invalid."))
    event = pending_event(latitude=38.0, longitude=-90.0, geocode_status=Status.PENDING)

    assert event_geocode(event_id=event.pk) == Status.NOT_FOUND

    event.refresh_from_db()
    assert (event.geocode_status, event.latitude, event.longitude) == (Status.NOT_FOUND, None, None)


def test_zero_results_is_cached_but_a_denied_key_is_not(google):
    google.script(
        fake_google.error("ZERO_RESULTS"),
        fake_google.error("REQUEST_DENIED"),
        fake_google.error("REQUEST_DENIED"),
    )
    for _ in range(2):
        event_geocode(event_id=pending_event(location_name="Nowhere Plaza", address="").pk)
    for _ in range(2):
        event_geocode(event_id=pending_event(location_name="Olin Library", address="").pk)

    # One request for the unknown address, then one per try while the key is refused.
    addresses = [request["address"] for request in google.requests]
    assert addresses == ["nowhere plaza", "olin library", "olin library"]
    assert list(GeocodeCache.objects.values_list("address", "status")) == [
        ("nowhere plaza", "not_found")
    ]


@pytest.mark.parametrize("code", [400, 403, 404])
def test_client_error_without_json_marks_not_found_and_is_not_cached(google, code):
    google.script(fake_google.http_error(code))
    event = pending_event()

    assert event_geocode(event_id=event.pk) == Status.NOT_FOUND
    assert not GeocodeCache.objects.exists()


def test_client_error_with_google_json_is_read_as_google_status(google):
    answer = fake_google.error("ZERO_RESULTS")
    google.script(fake_google.Answer(answer.payload, http_status=400))
    event = pending_event()

    assert event_geocode(event_id=event.pk) == Status.NOT_FOUND
    assert GeocodeCache.objects.get().status == "not_found"


def test_request_denied_is_logged_loudly_without_the_key(google, caplog):
    google.script(fake_google.error("REQUEST_DENIED", "The provided API key is invalid."))
    caplog.set_level(logging.DEBUG)

    event_geocode(event_id=pending_event().pk)

    [denied] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert denied.levelno == logging.CRITICAL
    assert "REQUEST_DENIED" in denied.getMessage()
    assert "The provided API key is invalid." in denied.getMessage()
    assert API_KEY not in caplog.text


@pytest.mark.parametrize(
    "answer",
    [
        fake_google.error("OVER_QUERY_LIMIT", "You have exceeded your daily request quota."),
        fake_google.error("UNKNOWN_ERROR"),
        fake_google.http_error(500),
        fake_google.http_error(503),
        fake_google.http_error(429),
        fake_google.slow(2.0, fake_google.ok(38.6482, -90.3077)),
        fake_google.Answer(b"<html>captive portal</html>"),
    ],
    ids=["over-query-limit", "unknown-error", "500", "503", "429", "timeout", "not-json"],
)
def test_transient_failure_is_retryable_and_leaves_event_pending(google, answer, caplog):
    google.script(answer)
    caplog.set_level(logging.DEBUG)
    event = pending_event()

    with pytest.raises(GeocodingRetryableError) as raised:
        event_geocode(event_id=event.pk)

    event.refresh_from_db()
    assert event.geocode_status == Status.PENDING
    assert not GeocodeCache.objects.exists()
    assert len(google.requests) == 1
    # The exception ends up in Celery results and Sentry (with local variables): no key in
    # its message, its chained causes, or any frame's locals.
    assert API_KEY not in exception_report(raised.value)
    assert API_KEY not in caplog.text


def test_unreachable_google_is_retryable(google, settings):
    settings.GOOGLE_GEOCODING_URL = "http://127.0.0.1:9/maps/api/geocode/json"

    with pytest.raises(GeocodingRetryableError, match="unreachable"):
        event_geocode(event_id=pending_event().pk)


def test_key_is_sent_only_over_https_or_to_this_machine(google, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.GOOGLE_GEOCODING_URL = "http://maps.googleapis.com/maps/api/geocode/json"

    with pytest.raises(ImproperlyConfigured):
        event_geocode(event_id=pending_event().pk)
    assert google.requests == []


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(123.0, -90.3), (38.6, -190.0), ("north", -90.3)]
)
def test_coordinates_out_of_range_never_reach_the_database(google, latitude, longitude):
    google.script(fake_google.ok(latitude, longitude))
    event = pending_event()

    assert event_geocode(event_id=event.pk) == Status.NOT_FOUND

    event.refresh_from_db()
    assert (event.latitude, event.longitude) == (None, None)
    assert not GeocodeCache.objects.exists()


def test_manual_event_is_left_alone(google):
    event = pending_event(geocode_status=Status.MANUAL, latitude=38.65, longitude=-90.31)

    assert event_geocode(event_id=event.pk) == Status.MANUAL

    event.refresh_from_db()
    assert (event.geocode_status, event.latitude, event.longitude) == (Status.MANUAL, 38.65, -90.31)
    assert google.requests == []


def test_event_placed_by_hand_during_the_request_keeps_its_place(google, monkeypatch):
    event = pending_event()
    google.script(fake_google.ok(38.6482, -90.3077))
    real_geocode = geocoding.google_geocode

    def organizer_places_it_meanwhile(query):
        result = real_geocode(query)
        EventPost.objects.filter(pk=event.pk).update(
            geocode_status=Status.MANUAL, latitude=38.7, longitude=-90.2
        )
        return result

    monkeypatch.setattr(geocoding, "google_geocode", organizer_places_it_meanwhile)

    assert event_geocode(event_id=event.pk) == Status.MANUAL

    event.refresh_from_db()
    assert (event.geocode_status, event.latitude, event.longitude) == (Status.MANUAL, 38.7, -90.2)


def test_deleted_event_is_skipped(google):
    assert event_geocode(event_id=987654321) is None
    assert google.requests == []


# --- No key: the campus gazetteer --------------------------------------------------------


@pytest.mark.parametrize(
    ("location_name", "place_key"),
    [
        ("Simon Hall, Room 110", "simon"),
        ("Room 101, Simon Hall", "simon"),
        ("simon-hall!", "simon"),
        ("olin-library", "olin-library"),
        ("Tisch Commons (DUC)", "duc-tisch"),
        ("Knight and Bauer Halls, 2nd floor", "knight-bauer"),
        ("Anheuser-Busch Hall 310", "anheuser-busch"),
        ("Bears Den", "bears-den"),
        ("Edison Theatre", "edison"),
    ],
)
def test_without_key_the_gazetteer_places_campus_buildings(no_key, location_name, place_key):
    event = pending_event(location_name=location_name, address="")

    assert event_geocode(event_id=event.pk) == Status.FOUND

    event.refresh_from_db()
    place = CAMPUS_PLACES[place_key]
    assert (event.latitude, event.longitude) == (place.latitude, place.longitude)
    assert not GeocodeCache.objects.exists()


def test_without_key_an_unknown_place_is_not_found(no_key):
    event = pending_event(location_name="Somewhere Unknown", address="12 Nowhere Rd")

    assert event_geocode(event_id=event.pk) == Status.NOT_FOUND

    event.refresh_from_db()
    assert (event.geocode_status, event.latitude, event.longitude) == (Status.NOT_FOUND, None, None)


def test_without_key_the_address_is_tried_after_the_name(no_key):
    event = pending_event(location_name="Study break", address="Olin Library, level A")

    assert event_geocode(event_id=event.pk) == Status.FOUND

    event.refresh_from_db()
    assert event.latitude == CAMPUS_PLACES["olin-library"].latitude


# --- Celery ------------------------------------------------------------------------------


def back_off_passes() -> None:
    """The clock moves past the pending rows' back-off; a worker then runs them."""
    OutboxMessage.objects.filter(status="pending").update(
        available_at=timezone.now() - dt.timedelta(seconds=1)
    )
    outbox.run_due()


def test_task_retries_until_google_recovers(google):
    google.script(
        fake_google.http_error(500),
        fake_google.error("OVER_QUERY_LIMIT"),
        fake_google.ok(38.6482, -90.3077),
    )
    event = pending_event()

    outbox.add(tasks.event_geocode_task, event.pk)
    outbox.run_due()
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "GeocodingRetryableError" in row.last_error
    back_off_passes()
    back_off_passes()

    assert len(google.requests) == 3
    event.refresh_from_db()
    assert event.geocode_status == Status.FOUND
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("done", 3)


def test_task_gives_up_after_a_day_of_failures_and_staff_can_resend(google, settings):
    google.script(*[fake_google.http_error(503)] * 3, fake_google.ok(38.6482, -90.3077))
    event = pending_event()
    outbox.add(tasks.event_geocode_task, event.pk)
    outbox.run_due()
    back_off_passes()
    # A day of failures later (the clock moved on), the next failure makes it a dead letter.
    OutboxMessage.objects.update(
        failing_since=timezone.now() - dt.timedelta(hours=settings.OUTBOX_DEAD_AFTER_HOURS)
    )
    back_off_passes()

    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == ("dead", 3)
    assert len(google.requests) == 3
    event.refresh_from_db()
    assert event.geocode_status == Status.PENDING
    back_off_passes()  # a dead letter is not run again by itself
    assert len(google.requests) == 3

    assert outbox.resend([row.pk]) == 1
    outbox.run_due()
    event.refresh_from_db()
    assert event.geocode_status == Status.FOUND


def test_task_retry_configuration(settings):
    task = celery_app.tasks["events.tasks.event_geocode_task"]

    assert isinstance(task, OutboxTask)  # retried by the outbox, with back-off, for a day
    assert task.acks_late
    assert not getattr(task, "autoretry_for", ())
    assert task.rate_limit == settings.GOOGLE_GEOCODING_RATE_LIMIT


def test_enqueue_writes_an_outbox_row_that_runs_after_commit(google, side_effects):
    google.script(fake_google.ok(38.6482, -90.3077))
    event = pending_event()

    with side_effects(execute=False):
        services.event_geocode_enqueue(event_id=event.pk)
    assert google.requests == []
    row = OutboxMessage.objects.get()
    assert (row.task, row.args) == ("events.tasks.event_geocode_task", [event.pk])

    outbox.run_due()
    event.refresh_from_db()
    assert event.geocode_status == Status.FOUND


def test_enqueue_is_dropped_with_a_rolled_back_transaction(google, celery_eager):
    event = pending_event()

    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 - rollback needs both
        services.event_geocode_enqueue(event_id=event.pk)
        raise RuntimeError

    assert google.requests == []
    assert not OutboxMessage.objects.exists()
    event.refresh_from_db()
    assert event.geocode_status == Status.PENDING


# --- Clean-up ----------------------------------------------------------------------------


def test_prune_deletes_only_old_cache_rows(settings):
    settings.GEOCODE_CACHE_MAX_AGE_DAYS = 30
    now = timezone.now()
    for address, age_days in [("old", 31), ("edge", 29), ("new", 0)]:
        row = GeocodeCache.objects.create(
            address=address, status="found", latitude=38.6, longitude=-90.3
        )
        GeocodeCache.objects.filter(pk=row.pk).update(
            created_at=now - dt.timedelta(days=age_days),
            updated_at=now - dt.timedelta(days=age_days),
        )

    assert tasks.geocode_cache_prune_task() == 1

    assert sorted(GeocodeCache.objects.values_list("address", flat=True)) == ["edge", "new"]


def test_prune_runs_daily_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["geocode-cache-prune"]
    assert entry["task"] == "events.tasks.geocode_cache_prune_task"
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"].remaining_estimate(timezone.now()) <= dt.timedelta(days=1)


class TestPlacingByHand:
    """When geocoding fails, the organizer puts the event on the map from the manage page."""

    def test_organizer_places_a_not_found_event_on_a_campus_building(self, client):
        organizer = OrganizerFactory()
        event = EventPostFactory(organizer=organizer, geocode_status="not_found")
        client.force_login(organizer)
        manage = client.get(reverse("events:manage", args=[event.pk])).content.decode()
        assert "We could not find this place on the map" in manage

        client.post(reverse("events:place", args=[event.pk]), {"place": "olin-library"})
        event.refresh_from_db()
        olin = CAMPUS_PLACES["olin-library"]
        assert (event.geocode_status, event.latitude, event.longitude) == (
            "manual",
            olin.latitude,
            olin.longitude,
        )

    def test_coordinates_by_hand_are_validated_and_others_may_not(self, client):
        event = EventPostFactory(geocode_status="not_found")
        client.force_login(event.organizer)
        response = client.post(
            reverse("events:place", args=[event.pk]),
            {"latitude": "91", "longitude": "0"},
            follow=True,
        )
        assert "less than or equal to 90" in response.content.decode()
        client.post(reverse("events:place", args=[event.pk]), {"latitude": "38.65"})
        event.refresh_from_db()
        assert event.geocode_status == "not_found"

        client.post(
            reverse("events:place", args=[event.pk]), {"latitude": "38.65", "longitude": "-90.31"}
        )
        event.refresh_from_db()
        assert (event.geocode_status, event.latitude) == ("manual", 38.65)

        client.force_login(OrganizerFactory())
        other = client.post(
            reverse("events:place", args=[event.pk]), {"latitude": "1", "longitude": "1"}
        )
        assert other.status_code == 403
        event.refresh_from_db()
        assert event.latitude == 38.65
