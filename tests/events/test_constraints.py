"""The database itself rejects rows that break an invariant, whatever the code above it does."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from escore.models import ScoreEntry
from events.models import EventPost, EventRegistration
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    ScoreEntryFactory,
    UserFactory,
)
from users.models import User

pytestmark = pytest.mark.django_db


def assert_rejected(constraint: str, write) -> None:
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        write()


def update_event(event: EventPost, **fields) -> None:
    # QuerySet.update skips model validation, so only the database stands in the way.
    EventPost.objects.filter(pk=event.pk).update(**fields)


def test_event_must_end_after_it_starts():
    event = EventPostFactory()
    assert_rejected("event_ends_after_start", lambda: update_event(event, ends_at=event.starts_at))
    assert_rejected(
        "event_ends_after_start",
        lambda: update_event(event, ends_at=event.starts_at - dt.timedelta(minutes=1)),
    )


@pytest.mark.parametrize("capacity", [0])
def test_capacity_is_at_least_one(capacity):
    event = EventPostFactory()
    assert_rejected("event_capacity_at_least_one", lambda: update_event(event, capacity=capacity))


def test_negative_capacity_is_rejected():
    event = EventPostFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        update_event(event, capacity=-1)


def test_unlimited_capacity_is_allowed():
    event = EventPostFactory(capacity=None)
    event.refresh_from_db()
    assert event.capacity is None
    assert event.seats_left is None


def test_seats_taken_never_exceeds_capacity():
    event = EventPostFactory(capacity=2)
    update_event(event, seats_taken=2)
    assert_rejected("event_seats_within_capacity", lambda: update_event(event, seats_taken=3))


@pytest.mark.parametrize(
    ("latitude", "longitude", "constraint"),
    [
        (90.5, -90.3, "event_latitude_in_range"),
        (-91, -90.3, "event_latitude_in_range"),
        (38.6, 180.1, "event_longitude_in_range"),
        (38.6, -181, "event_longitude_in_range"),
        (38.6, None, "event_coordinates_both_or_neither"),
        (None, -90.3, "event_coordinates_both_or_neither"),
    ],
)
def test_coordinates_are_in_range_and_paired(latitude, longitude, constraint):
    event = EventPostFactory()
    assert_rejected(constraint, lambda: update_event(event, latitude=latitude, longitude=longitude))


def test_valid_coordinates_are_stored():
    event = EventPostFactory(latitude=38.6488, longitude=-90.3108)
    event.refresh_from_db()
    assert (event.latitude, event.longitude) == (38.6488, -90.3108)


def test_cancelled_event_needs_a_reason():
    event = EventPostFactory()
    assert_rejected(
        "event_cancellation_has_reason", lambda: update_event(event, status="cancelled")
    )
    update_event(event, status="cancelled", cancellation_reason="Speaker is ill.")


def test_one_registration_per_student_and_event():
    registration = EventRegistrationFactory()
    assert_rejected(
        "registration_one_per_user",
        lambda: EventRegistration.objects.create(
            event=registration.event, user=registration.user, status="waitlisted"
        ),
    )


def test_cancelled_registration_carries_its_time_and_only_then():
    registration = EventRegistrationFactory()
    queryset = EventRegistration.objects.filter(pk=registration.pk)
    assert_rejected(
        "registration_cancelled_at_iff_cancelled", lambda: queryset.update(status="cancelled")
    )
    assert_rejected(
        "registration_cancelled_at_iff_cancelled",
        lambda: queryset.update(cancelled_at=timezone.now()),
    )
    queryset.update(status="cancelled", cancelled_at=timezone.now())


def test_only_confirmed_registrations_are_checked_in():
    registration = EventRegistrationFactory(status="waitlisted")
    assert_rejected(
        "registration_checkin_only_confirmed",
        lambda: EventRegistration.objects.filter(pk=registration.pk).update(
            checked_in_at=timezone.now()
        ),
    )


def test_score_entry_once_per_user_event_and_reason():
    entry = ScoreEntryFactory()
    assert_rejected(
        "score_once_per_user_event_reason",
        lambda: ScoreEntry.objects.create(
            user=entry.user, event=entry.event, reason=entry.reason, points=10
        ),
    )
    # Another reason for the same event is a separate line of the ledger.
    ScoreEntry.objects.create(
        user=entry.user, event=entry.event, reason=ScoreEntry.Reason.NEW_CATEGORY, points=5
    )


def test_score_entry_has_points():
    assert_rejected("score_points_nonzero", lambda: ScoreEntryFactory(points=0))


def test_events_with_score_entries_cannot_be_deleted():
    entry = ScoreEntryFactory()

    def delete_bypassing_django():
        # Foreign keys are checked at commit; make this one answer now. PROTECT raises
        # ProtectedError in Python; the raw delete shows the database agrees.
        connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
        EventPost.objects.filter(pk=entry.event_id)._raw_delete(using="default")

    assert_rejected("escore_scoreentry_event_id", delete_bypassing_django)


def test_email_is_unique_regardless_of_case():
    UserFactory(email="bear@wustl.edu")
    # Stored canonical (lower case, no +tag), so another spelling is refused outright...
    assert_rejected("user_email_canonical", lambda: User.objects.create(email="Bear@wustl.edu"))
    # ...and the manager's canonical spelling of it meets the unique index.
    assert_rejected("email", lambda: User.objects.create_user(email="bear@WUSTL.edu"))


def test_pseudonym_is_required_when_chosen():
    assert_rejected(
        "user_pseudonym_required_when_chosen",
        lambda: UserFactory(leaderboard_visibility="pseudonym", pseudonym=""),
    )
