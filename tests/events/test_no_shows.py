"""No-show release: at the start plus the grace, seats of students not checked in go to the
waitlist, once, when the organizer turned it on; everyone concerned is told by e-mail."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from events import services, tasks
from events.models import AttendanceRecord, EventPost, EventRegistration
from tests.factories import EventPostFactory, UserFactory

from .test_concurrency import assert_counters_exact

pytestmark = pytest.mark.django_db
Status = EventRegistration.Status


def started(minutes_ago: int, **fields) -> EventPost:
    starts_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    fields.setdefault("release_no_shows", True)
    fields.setdefault("capacity", 2)
    return EventPostFactory(
        starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), **fields
    )


def fill(event: EventPost, *, seated: int, waiting: int) -> tuple[list, list]:
    """Registrations made through the service (before the start), as students make them."""
    starts_at, ends_at = event.starts_at, event.ends_at
    EventPost.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() + dt.timedelta(days=1),
        ends_at=timezone.now() + dt.timedelta(days=1, hours=2),
    )
    registrations = [
        services.registration_create(event_id=event.pk, user=UserFactory())
        for _ in range(seated + waiting)
    ]
    EventPost.objects.filter(pk=event.pk).update(starts_at=starts_at, ends_at=ends_at)
    return registrations[:seated], registrations[seated:]


def test_no_shows_seats_go_to_the_waitlist_and_everyone_is_told(side_effects):
    event = started(12, title="Chess night")
    (came, stayed_away), (first_waiting, second_waiting) = fill(event, seated=2, waiting=2)
    services.registration_check_in(registration_id=came.pk, by=event.organizer)
    mail.outbox.clear()

    with side_effects(execute=True):
        released = services.no_shows_release_due()

    assert released == 1
    came.refresh_from_db()
    stayed_away.refresh_from_db()
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert came.status == Status.CONFIRMED
    assert (stayed_away.status, stayed_away.released_at is not None) == (Status.CANCELLED, True)
    assert first_waiting.status == Status.CONFIRMED
    assert second_waiting.status == Status.WAITLISTED
    assert_counters_exact(event)
    assert event.no_shows_released_at is not None
    record = AttendanceRecord.objects.get(action="released")
    assert (record.registration_id, record.method, record.by) == (stayed_away.pk, "sweep", None)

    told = {message.to[0]: message for message in mail.outbox}
    assert set(told) == {stayed_away.user.email, first_waiting.user.email}
    assert told[stayed_away.user.email].subject == "Your seat went to the waitlist: Chess night"
    assert "had not checked in 10 minutes after the start" in told[stayed_away.user.email].body
    promoted = told[first_waiting.user.email]
    assert promoted.subject.startswith("A seat opened up")
    assert "It has already started: come now, and check in at the door." in promoted.body


def test_each_event_is_released_once_so_promoted_students_keep_their_seats():
    event = started(15)
    fill(event, seated=2, waiting=3)
    assert services.no_shows_release_due() == 2
    promoted = set(
        EventRegistration.objects.filter(event=event, status=Status.CONFIRMED).values_list(
            "pk", flat=True
        )
    )
    assert len(promoted) == 2
    assert services.no_shows_release_due() == 0
    assert services.no_shows_release(event_id=event.pk) == []
    assert (
        set(
            EventRegistration.objects.filter(event=event, status=Status.CONFIRMED).values_list(
                "pk", flat=True
            )
        )
        == promoted
    )


@pytest.mark.parametrize(
    ("minutes_ago", "fields", "waiting"),
    [
        pytest.param(5, {}, 1, id="inside-the-grace"),
        pytest.param(25, {"no_show_grace_minutes": 30}, 1, id="longer-grace"),
        pytest.param(15, {"release_no_shows": False}, 1, id="release-off"),
        pytest.param(15, {}, 0, id="nobody-waiting"),
        pytest.param(150, {}, 1, id="already-ended"),
    ],
)
def test_nothing_is_released_unless_due(minutes_ago, fields, waiting):
    event = started(minutes_ago, **fields)
    (seated, _), _ = fill(event, seated=2, waiting=waiting)
    assert services.no_shows_release_due() == 0
    seated.refresh_from_db()
    assert seated.status == Status.CONFIRMED
    event.refresh_from_db()
    assert event.no_shows_released_at is None


def test_a_released_student_arriving_late_is_told_and_can_walk_in_if_allowed():
    event = started(12, capacity=1)
    (late,), _ = fill(event, seated=1, waiting=1)
    services.no_shows_release_due()
    code = services.check_in_code_show(event_id=event.pk, by=event.organizer).code

    with pytest.raises(services.EventFull, match="Your seat went to the waitlist at"):
        services.check_in_by_code(user=late.user, code=code, event_id=event.pk)
    with pytest.raises(services.SeatReleased, match="seat went to the waitlist"):
        services.registration_check_in(registration_id=late.pk, by=event.organizer)

    services.event_update(event_id=event.pk, by=event.organizer, walk_ins_beyond_capacity=True)
    outcome = services.walk_in_check_in(
        event_id=event.pk, email=late.user.email, by=event.organizer
    )
    late.refresh_from_db()
    assert outcome.changed
    assert (late.status, late.released_at, late.walk_in) == (Status.CONFIRMED, None, True)
    assert_counters_exact(event)
    assert event.seats_taken == 2


def test_beat_runs_the_release_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["release-no-shows"]
    assert entry["task"] == "events.tasks.no_shows_release_due"
    assert entry["schedule"] <= dt.timedelta(minutes=1)
    event = started(11)
    fill(event, seated=2, waiting=1)
    assert tasks.no_shows_release_due.apply().get() == 2
