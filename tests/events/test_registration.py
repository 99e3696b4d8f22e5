import datetime as dt
from collections import Counter

import kombu.exceptions
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.db import transaction
from django.utils import timezone

from core import outbox
from core.models import OutboxMessage
from events import selectors, services, tasks
from events.models import EventPost, EventRegistration
from tests.factories import EventPostFactory, EventRegistrationFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

Status = EventRegistration.Status


def register(event, user, callbacks_runner):
    with callbacks_runner(execute=True):
        return services.registration_create(event_id=event.pk, user=user)


def cancel(event, user, callbacks_runner):
    with callbacks_runner(execute=True):
        return services.registration_cancel(event_id=event.pk, user=user)


def assert_counters_exact(event):
    event.refresh_from_db()
    rows = Counter(EventRegistration.objects.filter(event=event).values_list("status", flat=True))
    assert (event.seats_taken, event.waitlist_count) == (
        rows[Status.CONFIRMED],
        rows[Status.WAITLISTED],
    )


def position(registration):
    registration.refresh_from_db()
    return selectors.registration_waitlist_position(registration=registration)


def test_confirms_while_seats_remain_then_waitlists(side_effects):
    event = EventPostFactory(capacity=2)
    students = UserFactory.create_batch(4)

    registrations = [register(event, s, side_effects) for s in students]

    assert [r.status for r in registrations] == [
        Status.CONFIRMED,
        Status.CONFIRMED,
        Status.WAITLISTED,
        Status.WAITLISTED,
    ]
    assert [position(r) for r in registrations] == [None, None, 1, 2]
    event.refresh_from_db()
    assert (event.seats_taken, event.waitlist_count, event.seats_left) == (2, 2, 0)
    assert_counters_exact(event)


def test_unlimited_capacity_always_confirms(side_effects):
    event = EventPostFactory(capacity=None)

    registrations = [register(event, s, side_effects) for s in UserFactory.create_batch(5)]

    assert {r.status for r in registrations} == {Status.CONFIRMED}
    event.refresh_from_db()
    assert (event.seats_taken, event.waitlist_count, event.seats_left) == (5, 0, None)


def test_cancel_promotes_first_waitlisted_student(side_effects):
    event = EventPostFactory(capacity=1)
    holder, first, second = UserFactory.create_batch(3)
    for student in (holder, first, second):
        register(event, student, side_effects)

    cancelled = cancel(event, holder, side_effects)

    assert cancelled.status == Status.CANCELLED
    assert cancelled.cancelled_at is not None
    first_registration = EventRegistration.objects.get(event=event, user=first)
    second_registration = EventRegistration.objects.get(event=event, user=second)
    assert first_registration.status == Status.CONFIRMED
    assert position(second_registration) == 1
    assert_counters_exact(event)


def test_waitlist_is_first_come_first_served_by_registration_time(
    side_effects,
):
    event = EventPostFactory(capacity=1)
    holder = UserFactory()
    register(event, holder, side_effects)
    early, late = UserFactory.create_batch(2)
    # The later student's row is inserted first: the queue follows registered_at, not pk.
    now = timezone.now()
    EventRegistrationFactory(event=event, user=late, status=Status.WAITLISTED, registered_at=now)
    EventRegistrationFactory(
        event=event,
        user=early,
        status=Status.WAITLISTED,
        registered_at=now - dt.timedelta(minutes=5),
    )
    EventPost.objects.filter(pk=event.pk).update(waitlist_count=2)

    cancel(event, holder, side_effects)

    assert EventRegistration.objects.get(event=event, user=early).status == Status.CONFIRMED
    assert EventRegistration.objects.get(event=event, user=late).status == Status.WAITLISTED


def test_cancelling_a_waitlisted_spot_only_leaves_the_queue(side_effects):
    event = EventPostFactory(capacity=1)
    holder, first, second = UserFactory.create_batch(3)
    holder_registration = register(event, holder, side_effects)
    register(event, first, side_effects)
    second_registration = register(event, second, side_effects)
    mail.outbox.clear()

    cancel(event, first, side_effects)

    holder_registration.refresh_from_db()
    assert holder_registration.status == Status.CONFIRMED
    assert position(second_registration) == 1
    assert mail.outbox == []
    assert_counters_exact(event)


def test_counters_stay_exact_through_a_mixed_sequence(side_effects):
    event = EventPostFactory(capacity=3)
    students = UserFactory.create_batch(6)
    steps = [
        (services.registration_create, 0),
        (services.registration_create, 1),
        (services.registration_create, 2),
        (services.registration_create, 3),
        (services.registration_create, 4),
        (services.registration_cancel, 1),
        (services.registration_cancel, 4),
        (services.registration_create, 1),
        (services.registration_create, 5),
        (services.registration_cancel, 0),
        (services.registration_cancel, 3),
        (services.registration_create, 0),
        (services.registration_create, 0),
        (services.registration_cancel, 2),
        (services.registration_cancel, 2),
    ]
    for service, student in steps:
        with side_effects(execute=True):
            service(event_id=event.pk, user=students[student])
        assert_counters_exact(event)

    statuses = {
        r.user_id: r.status for r in EventRegistration.objects.filter(event=event).order_by()
    }
    assert [statuses[s.pk] for s in students] == [
        Status.CONFIRMED,  # re-registered onto the waitlist, promoted when 2 cancelled
        Status.CONFIRMED,  # re-registered onto the waitlist, promoted when 0 cancelled
        Status.CANCELLED,
        Status.CANCELLED,  # promoted when 1 cancelled, then cancelled
        Status.CANCELLED,
        Status.CONFIRMED,  # promoted when 3 cancelled
    ]


def test_registering_twice_returns_the_existing_registration(side_effects):
    event = EventPostFactory(capacity=1)
    holder, waiting = UserFactory.create_batch(2)
    confirmed = register(event, holder, side_effects)
    waitlisted = register(event, waiting, side_effects)
    mail.outbox.clear()

    again_confirmed = register(event, holder, side_effects)
    again_waitlisted = register(event, waiting, side_effects)

    assert (again_confirmed.pk, again_confirmed.status) == (confirmed.pk, Status.CONFIRMED)
    assert again_confirmed.registered_at == confirmed.registered_at
    assert (again_waitlisted.pk, again_waitlisted.status) == (waitlisted.pk, Status.WAITLISTED)
    assert again_waitlisted.registered_at == waitlisted.registered_at
    assert mail.outbox == []
    assert_counters_exact(event)


def test_registering_again_after_cancelling_goes_to_the_back_of_the_queue(
    side_effects,
):
    event = EventPostFactory(capacity=1)
    holder, returning, other = UserFactory.create_batch(3)
    register(event, holder, side_effects)
    first_try = register(event, returning, side_effects)
    register(event, other, side_effects)
    cancel(event, returning, side_effects)

    second_try = register(event, returning, side_effects)

    assert second_try.pk == first_try.pk
    assert second_try.status == Status.WAITLISTED
    assert second_try.cancelled_at is None
    assert second_try.registered_at > first_try.registered_at
    assert position(second_try) == 2
    assert position(EventRegistration.objects.get(event=event, user=other)) == 1
    assert_counters_exact(event)


def test_registering_again_after_cancelling_takes_a_free_seat(side_effects):
    event = EventPostFactory(capacity=2)
    student = UserFactory()
    register(event, student, side_effects)
    cancel(event, student, side_effects)

    registration = register(event, student, side_effects)

    assert registration.status == Status.CONFIRMED
    assert EventRegistration.objects.filter(event=event).count() == 1
    assert_counters_exact(event)


def test_free_seats_go_to_the_waitlist_before_a_newcomer(side_effects):
    event = EventPostFactory(capacity=1)
    holder, waiting, newcomer = UserFactory.create_batch(3)
    register(event, holder, side_effects)
    register(event, waiting, side_effects)
    # An organizer raising the capacity does not go through the registration services.
    EventPost.objects.filter(pk=event.pk).update(capacity=2)

    newcomer_registration = register(event, newcomer, side_effects)

    assert EventRegistration.objects.get(event=event, user=waiting).status == Status.CONFIRMED
    assert newcomer_registration.status == Status.WAITLISTED
    assert_counters_exact(event)


def _started_event():
    now = timezone.now()
    return EventPostFactory(
        starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1)
    )


def _ended_event():
    now = timezone.now()
    return EventPostFactory(
        starts_at=now - dt.timedelta(hours=3), ends_at=now - dt.timedelta(hours=1)
    )


def _draft_event():
    return EventPostFactory(status=EventPost.Status.DRAFT)


def _cancelled_event():
    return EventPostFactory(status=EventPost.Status.CANCELLED, cancellation_reason="Storm warning")


@pytest.mark.parametrize(
    ("make_event", "error", "code", "http_status"),
    [
        (_started_event, services.EventClosed, "event_closed", 409),
        (_ended_event, services.EventClosed, "event_closed", 409),
        (_cancelled_event, services.EventCancelled, "event_cancelled", 409),
        (_draft_event, services.EventNotFound, "not_found", 404),
    ],
)
def test_registration_is_refused_for_events_not_open(make_event, error, code, http_status):
    event = make_event()

    with pytest.raises(error) as excinfo:
        services.registration_create(event_id=event.pk, user=UserFactory())

    assert isinstance(excinfo.value, services.RegistrationError)
    assert (excinfo.value.code, excinfo.value.http_status) == (code, http_status)
    assert excinfo.value.message
    assert not EventRegistration.objects.filter(event=event).exists()
    event.refresh_from_db()
    assert (event.seats_taken, event.waitlist_count) == (0, 0)


@pytest.mark.parametrize("event_id", [2**62, 2**70, 0, -1])
def test_registration_for_a_nonexistent_event_is_not_found(event_id):
    with pytest.raises(services.EventNotFound) as excinfo:
        services.registration_create(event_id=event_id, user=UserFactory())

    assert excinfo.value.code == "not_found"


def test_full_event_is_not_an_error_but_the_waitlist(side_effects):
    event = EventPostFactory(capacity=1)
    register(event, UserFactory(), side_effects)

    registration = register(event, UserFactory(), side_effects)

    assert registration.status == Status.WAITLISTED


@pytest.mark.parametrize(
    "user",
    [pytest.param(lambda: AnonymousUser(), id="anonymous"), lambda: UserFactory(is_active=False)],
)
def test_only_eligible_users_may_register(user):
    event = EventPostFactory()

    with pytest.raises(services.NotEligible) as excinfo:
        services.registration_create(event_id=event.pk, user=user())

    assert (excinfo.value.code, excinfo.value.http_status) == ("not_eligible", 403)
    assert not EventRegistration.objects.exists()


def test_checked_in_registration_cannot_be_cancelled(side_effects):
    event = EventPostFactory(capacity=1)
    student, waiting = UserFactory.create_batch(2)
    registration = register(event, student, side_effects)
    register(event, waiting, side_effects)
    # Doors open early: organizers check students in before the start time.
    EventRegistration.objects.filter(pk=registration.pk).update(checked_in_at=timezone.now())

    with pytest.raises(services.AlreadyCheckedIn) as excinfo:
        services.registration_cancel(event_id=event.pk, user=student)

    assert excinfo.value.code == "already_checked_in"
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED
    assert EventRegistration.objects.get(user=waiting).status == Status.WAITLISTED
    assert_counters_exact(event)


def test_cancelling_without_a_registration_is_an_error():
    event = EventPostFactory()

    with pytest.raises(services.NotRegistered) as excinfo:
        services.registration_cancel(event_id=event.pk, user=UserFactory())

    assert (excinfo.value.code, excinfo.value.http_status) == ("not_registered", 404)


def test_cancelling_while_logged_out_is_an_error_not_a_crash():
    event = EventPostFactory()

    with pytest.raises(services.NotRegistered):
        services.registration_cancel(event_id=event.pk, user=AnonymousUser())


def test_registration_event_loads_in_full(side_effects):
    event = EventPostFactory(description="Bring a friend.")

    registration = register(event, UserFactory(), side_effects)

    assert registration.event.get_deferred_fields() == set()
    assert registration.event.description == "Bring a friend."
    assert registration.event.seats_taken == 1


def test_cancelling_twice_is_harmless(side_effects):
    event = EventPostFactory(capacity=1)
    student, waiting = UserFactory.create_batch(2)
    register(event, student, side_effects)
    register(event, waiting, side_effects)
    first = cancel(event, student, side_effects)
    mail.outbox.clear()

    second = cancel(event, student, side_effects)

    assert (second.pk, second.status, second.cancelled_at) == (
        first.pk,
        Status.CANCELLED,
        first.cancelled_at,
    )
    assert mail.outbox == []
    assert_counters_exact(event)


@pytest.mark.parametrize(
    ("make_event", "error"),
    [
        (_started_event, services.EventClosed),
        (_cancelled_event, services.EventCancelled),
        (_draft_event, services.EventNotFound),
    ],
)
def test_cancellation_is_refused_once_the_event_is_not_open(make_event, error):
    event = make_event()
    student = UserFactory()
    registration = EventRegistrationFactory(event=event, user=student)
    EventPost.objects.filter(pk=event.pk).update(seats_taken=1)

    with pytest.raises(error):
        services.registration_cancel(event_id=event.pk, user=student)

    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED


def test_cancelling_for_a_nonexistent_event_is_not_found():
    with pytest.raises(services.EventNotFound):
        services.registration_cancel(event_id=2**62, user=UserFactory())


# --- E-mails --------------------------------------------------------------------------------


def test_confirmation_email_names_the_event_in_central_time(side_effects, settings):
    settings.SITE_URL = "https://eren.washu.edu"
    event = EventPostFactory(
        title="Fall Career Fair",
        location_name="Athletic Complex",
        address="330 N Big Bend Blvd",
        starts_at=dt.datetime(2030, 1, 15, 0, 30, tzinfo=dt.UTC),
        ends_at=dt.datetime(2030, 1, 15, 3, 0, tzinfo=dt.UTC),
    )
    student = UserFactory(email="bear@wustl.edu")

    register(event, student, side_effects)

    [message] = mail.outbox
    assert message.to == ["bear@wustl.edu"]
    assert message.subject == "You're registered: Fall Career Fair"
    assert "Monday, January 14, 2030, 6:30 PM CST" in message.body
    assert "Athletic Complex, 330 N Big Bend Blvd" in message.body
    assert f"https://eren.washu.edu/events/{event.pk}/" in message.body


def test_waitlist_and_promotion_emails(side_effects, settings):
    settings.SITE_URL = "https://eren.washu.edu"
    event = EventPostFactory(capacity=1, title="Bear Bash")
    holder, waiting = UserFactory.create_batch(2)
    register(event, holder, side_effects)
    register(event, waiting, side_effects)

    waitlisted_message = mail.outbox[-1]
    assert waitlisted_message.subject == "You're on the waitlist: Bear Bash"
    assert "position 1" in waitlisted_message.body
    assert f"https://eren.washu.edu/events/{event.pk}/" in waitlisted_message.body

    cancel(event, holder, side_effects)

    promoted_message = mail.outbox[-1]
    assert promoted_message.to == [waiting.email]
    assert promoted_message.subject.startswith("A seat opened up")
    assert len(mail.outbox) == 3


def test_email_subject_survives_a_title_with_line_breaks(side_effects):
    event = EventPostFactory(title="Open mic\r\nBcc: everyone@wustl.edu")

    register(event, UserFactory(), side_effects)

    [message] = mail.outbox
    assert message.subject == "You're registered: Open mic Bcc: everyone@wustl.edu"
    assert message.bcc == []


def test_emails_are_outbox_rows_sent_only_after_commit(side_effects):
    event = EventPostFactory(capacity=1)

    with side_effects(execute=False):
        registration = services.registration_create(event_id=event.pk, user=UserFactory())
        assert mail.outbox == []

    # The e-mail is a row of the registration's own transaction; nothing is sent yet.
    row = OutboxMessage.objects.get()
    assert (row.task, row.args, row.status) == (
        "events.tasks.registration_email_send",
        [registration.pk, "confirmed"],
        "pending",
    )
    assert mail.outbox == []
    assert outbox.run_due() == 1
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == "done"


def test_rolled_back_registration_sends_nothing(side_effects):
    event = EventPostFactory(capacity=1)

    class Abort(Exception):
        pass

    def register_then_fail():
        with transaction.atomic():
            services.registration_create(event_id=event.pk, user=UserFactory())
            raise Abort

    with side_effects(execute=True) as callbacks, pytest.raises(Abort):
        register_then_fail()

    assert callbacks == []
    assert mail.outbox == []
    assert not EventRegistration.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_registration_stands_and_its_email_waits_when_the_broker_is_down(
    side_effects, monkeypatch, caplog
):
    def broker_down(*args, **kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(tasks.registration_email_send, "apply_async", broker_down)
    event = EventPostFactory(capacity=1)

    with side_effects(execute=False):
        registration = services.registration_create(event_id=event.pk, user=UserFactory())

    assert registration.status == Status.CONFIRMED
    assert_counters_exact(event)
    assert mail.outbox == []
    # The relay cannot hand the e-mail over: it stays due for the next round.
    assert outbox.relay() == 0
    assert "Error 111" in caplog.text
    assert OutboxMessage.objects.get().status == "pending"
    monkeypatch.undo()
    assert outbox.run_due() == 1
    assert len(mail.outbox) == 1


def test_email_whose_news_is_stale_is_not_sent(side_effects):
    event = EventPostFactory(capacity=1)
    student = UserFactory()
    with side_effects(execute=False):
        services.registration_create(event_id=event.pk, user=student)
    # The student cancels before the e-mail went out: "you're registered" is no longer true.
    cancel(event, student, side_effects)
    outbox.run_due()

    assert OutboxMessage.objects.filter(status="done").count() == 1
    assert mail.outbox == []


# --- Selectors ------------------------------------------------------------------------------


def test_my_registrations_carry_waitlist_positions_in_one_query(
    side_effects, django_assert_num_queries
):
    student = UserFactory()
    events = EventPostFactory.create_batch(3, capacity=1)
    for position_wanted, event in enumerate(events):
        for other in UserFactory.create_batch(position_wanted + 1):
            register(event, other, side_effects)
        register(event, student, side_effects)
    cancelled_event = EventPostFactory()
    register(cancelled_event, student, side_effects)
    cancel(cancelled_event, student, side_effects)

    with django_assert_num_queries(1):
        rows = [
            (r.event_id, r.status, r.waitlist_position, r.event.category.name)
            for r in selectors.registration_list_for_user(user=student)
        ]

    assert [row[:3] for row in rows] == [
        (events[0].pk, Status.WAITLISTED, 1),
        (events[1].pk, Status.WAITLISTED, 2),
        (events[2].pk, Status.WAITLISTED, 3),
    ]
    for registration in selectors.registration_list_for_user(user=student):
        assert registration.waitlist_position == position(registration)


def test_own_registration_lookup(side_effects):
    event = EventPostFactory()
    student = UserFactory()
    assert selectors.registration_get_for_user(event_id=event.pk, user=student) is None
    assert selectors.registration_get_for_user(event_id=event.pk, user=AnonymousUser()) is None

    registration = register(event, student, side_effects)

    assert selectors.registration_get_for_user(event_id=event.pk, user=student) == registration


def test_the_lock_is_held_for_a_fixed_handful_of_queries(side_effects, django_assert_num_queries):
    """Every query runs while the event is locked, so their number bounds the queue time."""
    event = EventPostFactory(capacity=1)
    holder, waiting = UserFactory.create_batch(2)
    register(event, holder, side_effects)
    register(event, waiting, side_effects)
    newcomer = UserFactory()

    # verified e-mail (before the lock), then savepoint, lock timeout, lock event,
    # own registration, the event's questions, insert, counters, the e-mail's outbox row,
    # release
    with django_assert_num_queries(10):
        services.registration_create(event_id=event.pk, user=newcomer)
    # savepoint, lock timeout, lock event, lock own registration, cancel, delete answers,
    # counters, read the queue head, promote, counters, the promotion e-mail's outbox row,
    # release
    with django_assert_num_queries(12):
        services.registration_cancel(event_id=event.pk, user=holder)
