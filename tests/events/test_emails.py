"""E-mails: content (HTML + text + .ics), sent once however often a task runs, reminders,
change notices. Only the mail server is replaced (Django's locmem outbox, or a backend
below that fails the way SMTP does)."""

import datetime as dt
import re
import smtplib
import time

import pytest
from django.core import mail, signing
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from core import outbox
from core.models import OutboxMessage
from events import emails, services, tasks
from events.models import EmailDelivery, EventChange, EventPost, EventRegistration
from tests.events.test_concurrency import race
from tests.factories import EventPostFactory, EventRegistrationFactory, UserFactory
from users.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

Status = EventRegistration.Status
SITE = "https://eren.washu.edu"
SCRIPT_TITLE = "<script>alert('x')</script> & Friends"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


class FlakyBackend(LocmemBackend):
    """The mail server refuses the first `failures` messages, then accepts (into the outbox)."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class SlowBackend(LocmemBackend):
    """A mail server that takes a moment: long enough for racing tasks to overlap."""

    def send_messages(self, messages):
        time.sleep(0.2)
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings):
    """A flaky mail server; the outbox retries what it refused (core/outbox.py)."""
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    yield FlakyBackend
    FlakyBackend.failures = 0


def back_off_passes() -> None:
    """The clock moves past every pending row's back-off; a worker then runs them."""
    OutboxMessage.objects.filter(status="pending").update(
        available_at=timezone.now() - dt.timedelta(seconds=1)
    )
    outbox.run_due()


def register(event, user, callbacks):
    with callbacks(execute=True):
        return services.registration_create(event_id=event.pk, user=user)


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def ics_of(message) -> Calendar:
    [(filename, content, mimetype)] = message.attachments
    assert filename == "event.ics"
    assert mimetype.startswith("text/calendar")
    return Calendar.from_ical(content)


def assert_branded_and_escaped(message, *, title=SCRIPT_TITLE):
    html = html_of(message)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Friends" in html
    assert "#a51417" in html
    assert "<link" not in html
    assert "<style" not in html
    # Every link is absolute: a mail client has no page to resolve a relative one against.
    assert 'href="/' not in html
    # The text part is not HTML: the title reads as written.
    assert title in message.body
    assert "&lt;" not in message.body


# --- Content ---------------------------------------------------------------------------------


def test_confirmation_is_branded_html_and_text_with_a_calendar_file(
    side_effects,
):
    event = EventPostFactory(
        title=SCRIPT_TITLE,
        location_name="Graham Chapel",
        address="6445 Forsyth Blvd",
        starts_at=dt.datetime(2030, 3, 1, 0, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2030, 3, 1, 2, 0, tzinfo=dt.UTC),
    )
    student = UserFactory(display_name="Bear")

    register(event, student, side_effects)

    [message] = mail.outbox
    assert message.to == [student.email]
    assert message.subject == f"You're registered: {SCRIPT_TITLE}"
    assert_branded_and_escaped(message)
    for part in (message.body, html_of(message)):
        assert "Hello Bear," in part
        assert "Thursday, February 28, 2030, 6:00 PM CST" in part
        assert "Graham Chapel, 6445 Forsyth Blvd" in part
        assert f"{SITE}/events/{event.pk}/" in part
        assert "You registered for this event on E-Ren." in part
        assert "Turn them off" not in part
    assert "List-Unsubscribe" not in message.extra_headers
    [vevent] = ics_of(message).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == SCRIPT_TITLE
    assert vevent.decoded("DTSTART") == event.starts_at
    assert str(vevent["UID"]) == f"event-{event.pk}@eren.washu.edu"
    assert EmailDelivery.objects.get().kind == "confirmed"


def test_confirmation_inside_the_reminder_window_says_it_is_the_reminder(
    side_effects,
):
    soon = EventPostFactory(starts_at=timezone.now() + dt.timedelta(hours=5))
    later = EventPostFactory()
    student = UserFactory()

    register(soon, student, side_effects)
    register(later, student, side_effects)

    soon_message, later_message = mail.outbox
    assert "you won't get another one" in soon_message.body
    assert "you won't get another one" not in later_message.body


def test_waitlisted_names_the_position_and_promoted_attaches_the_calendar(
    side_effects,
):
    event = EventPostFactory(capacity=1, title=SCRIPT_TITLE)
    holder, first, second = UserFactory.create_batch(3)
    for student in (holder, first, second):
        register(event, student, side_effects)

    waitlisted = mail.outbox[-1]
    assert waitlisted.subject == f"You're on the waitlist: {SCRIPT_TITLE}"
    assert "position 2" in waitlisted.body
    assert "position 2" in html_of(waitlisted)
    assert waitlisted.attachments == []
    assert_branded_and_escaped(waitlisted)

    with side_effects(execute=True):
        services.registration_cancel(event_id=event.pk, user=holder)

    promoted = mail.outbox[-1]
    assert promoted.to == [first.email]
    assert promoted.subject == f"A seat opened up — you're in: {SCRIPT_TITLE}"
    assert "your registration is now confirmed" in promoted.body
    assert_branded_and_escaped(promoted)
    [vevent] = ics_of(promoted).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == SCRIPT_TITLE
    assert len(mail.outbox) == 4


def test_cancellation_quotes_the_reason_escaped(client, side_effects):
    event = EventPostFactory(title=SCRIPT_TITLE, capacity=1)
    confirmed, waiting = UserFactory(), UserFactory()
    for student in (confirmed, waiting):
        register(event, student, side_effects)
    mail.outbox.clear()

    with side_effects(execute=True):
        services.event_cancel(
            event_id=event.pk, by=event.organizer, reason="The <b>room</b> flooded.\nSorry!"
        )

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {confirmed.email, waiting.email}
    for message in mail.outbox:
        assert message.subject == f"Cancelled: {SCRIPT_TITLE}"
        assert "The <b>room</b> flooded.\nSorry!" in message.body
        assert "The &lt;b&gt;room&lt;/b&gt; flooded.<br>Sorry!" in html_of(message)
        assert_branded_and_escaped(message)
    assert "your registration is closed" in by_recipient[confirmed.email].body
    assert "your place on the waitlist is closed" in by_recipient[waiting.email].body


def test_the_cancellation_removes_the_event_from_calendars(side_effects):
    event = EventPostFactory(capacity=5)
    student = UserFactory()
    register(event, student, side_effects)
    (confirmation,) = mail.outbox
    (published,) = ics_of(confirmation).walk("VEVENT")
    mail.outbox.clear()

    with side_effects(execute=True):
        services.event_cancel(event_id=event.pk, by=event.organizer, reason="Rain.")

    (message,) = mail.outbox
    calendar = ics_of(message)
    assert str(calendar["METHOD"]) == "CANCEL"
    (cancelled,) = calendar.walk("VEVENT")
    assert str(cancelled["UID"]) == str(published["UID"])
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) > int(published["SEQUENCE"])


def test_organizer_message_is_escaped_and_goes_to_confirmed_students_only(
    side_effects,
):
    event = EventPostFactory(title=SCRIPT_TITLE, capacity=1)
    confirmed, waiting = UserFactory(), UserFactory()
    for student in (confirmed, waiting):
        register(event, student, side_effects)
    mail.outbox.clear()

    with side_effects(execute=True):
        services.organizer_message_send(
            event_id=event.pk,
            by=event.organizer,
            subject="Room <i>change</i>",
            body="Meet in <a href='http://evil'>room 101</a>.",
        )

    [message] = mail.outbox
    assert message.to == [confirmed.email]
    assert message.subject == f"{SCRIPT_TITLE}: Room <i>change</i>"
    assert "Meet in <a href='http://evil'>room 101</a>." in message.body
    html = html_of(message)
    assert "<a href='http://evil'>" not in html
    assert "Meet in &lt;a href=&#x27;http://evil&#x27;&gt;room 101&lt;/a&gt;." in html
    assert "Room &lt;i&gt;change&lt;/i&gt;" in html
    assert_branded_and_escaped(message)


# --- Sent once ----------------------------------------------------------------------------


def test_the_same_email_task_run_three_times_sends_one_email():
    registration = EventRegistrationFactory()

    results = [
        tasks.registration_email_send.apply(args=(registration.pk, "confirmed")).get()
        for _ in range(3)
    ]

    assert results == [True, False, False]
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.filter(registration=registration).count() == 1


def test_each_bulk_email_task_run_three_times_sends_one_email_per_student():
    event = EventPostFactory(capacity=2)
    students = UserFactory.create_batch(2)
    for student in students:
        EventRegistrationFactory(event=event, user=student)
    EventPost.objects.filter(pk=event.pk).update(seats_taken=2)
    message = services.organizer_message_send(
        event_id=event.pk, by=event.organizer, subject="Hi", body="Bring a pen."
    )
    change = EventChange.objects.create(
        event=event,
        starts_at_before=event.starts_at,
        ends_at_before=event.ends_at,
        location_name_before="Olin Library",
        address_before="",
        starts_at_after=event.starts_at,
        ends_at_after=event.ends_at,
        location_name_after=event.location_name,
        address_after="",
    )

    for _ in range(3):
        tasks.organizer_message_send.apply(args=(message.pk,)).get()
        tasks.event_changed_email_send.apply(args=(change.pk,)).get()
    EventPost.objects.filter(pk=event.pk).update(status="cancelled", cancellation_reason="Rain.")
    for _ in range(3):
        tasks.event_cancelled_email_send.apply(args=(event.pk,)).get()

    subjects = sorted((m.to[0], m.subject.split(":")[0]) for m in mail.outbox)
    assert subjects == sorted(
        (student.email, prefix)
        for student in students
        for prefix in ("Cancelled", "Changed", event.title)
    )
    changed = [m for m in mail.outbox if m.subject.startswith("Changed")]
    for message in changed:
        [(filename, content, mimetype)] = message.attachments
        assert (filename, mimetype) == ("event.ics", "text/calendar")
        assert Calendar.from_ical(content).walk("VEVENT")


def test_a_student_re_registering_is_told_again():
    registration = EventRegistrationFactory(status=Status.CONFIRMED)
    emails.registration_email_send(registration_id=registration.pk, kind="confirmed")
    EventRegistration.objects.filter(pk=registration.pk).update(
        registered_at=timezone.now() + dt.timedelta(seconds=1)
    )

    emails.registration_email_send(registration_id=registration.pk, kind="confirmed")

    assert len(mail.outbox) == 2


def test_a_failed_send_is_retried_and_then_sent_once(flaky_mail, side_effects):
    flaky_mail.failures = 2
    event = EventPostFactory()

    register(event, UserFactory(), side_effects)

    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts, mail.outbox) == ("pending", 1, [])
    assert row.available_at > timezone.now() + dt.timedelta(seconds=20)  # backing off
    assert not EmailDelivery.objects.exists()  # the failed attempt released its claim
    back_off_passes()
    back_off_passes()

    assert flaky_mail.failures == 0
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.count() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("done", 3)


def test_a_bulk_send_failing_half_way_sends_each_student_one_email_after_the_retry(
    flaky_mail, side_effects
):
    event = EventPostFactory()
    students = UserFactory.create_batch(3)
    for student in students:
        register(event, student, side_effects)
    mail.outbox.clear()
    original = FlakyBackend.send_messages
    calls = []

    def fail_the_second(self, messages):
        calls.append(messages[0].to[0])
        if len(calls) == 2:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return original(self, messages)

    FlakyBackend.send_messages = fail_the_second
    try:
        with side_effects(execute=True):
            services.event_cancel(event_id=event.pk, by=event.organizer, reason="Snow.")
        back_off_passes()
    finally:
        FlakyBackend.send_messages = original

    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in students)
    # First, second (refused), then the retry: first is skipped, second and third sent.
    assert calls == [students[0].email, students[1].email, students[1].email, students[2].email]


def test_a_send_that_keeps_failing_leaves_no_record_so_a_later_run_sends_it(flaky_mail):
    flaky_mail.failures = 1
    registration = EventRegistrationFactory()

    with pytest.raises(smtplib.SMTPException):
        emails.registration_email_send(registration_id=registration.pk, kind="confirmed")

    assert not EmailDelivery.objects.exists()
    assert emails.registration_email_send(registration_id=registration.pk, kind="confirmed")
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_email_task_racing_itself_three_times_sends_one_email(settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    registration = EventRegistrationFactory()

    results = race(
        [lambda: emails.registration_email_send(registration_id=registration.pk, kind="confirmed")]
        * 3
    )

    assert sorted(results) == [False, False, True]
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.count() == 1


# --- Reminders -----------------------------------------------------------------------------


def registered_long_ago(event, **kwargs):
    return EventRegistrationFactory(
        event=event, registered_at=timezone.now() - dt.timedelta(days=5), **kwargs
    )


def sweep(callbacks) -> int:
    with callbacks(execute=True):
        return tasks.reminders_queue_due.apply().get()


def test_reminder_sweep_sends_each_owed_reminder_once(side_effects):
    event = EventPostFactory(title=SCRIPT_TITLE, starts_at=timezone.now() + dt.timedelta(hours=20))
    registration = registered_long_ago(event)

    assert sweep(side_effects) == 1
    assert sweep(side_effects) == 0

    [message] = mail.outbox
    assert message.to == [registration.user.email]
    assert message.subject == f"Tomorrow: {SCRIPT_TITLE}"
    assert_branded_and_escaped(message)
    account_url = f"{SITE}{reverse('users:account')}"
    # The token is signed with a timestamp, so read it from the e-mail (computing it here
    # gives another one when a second ticks over) and check whom it names.
    off_prefix = f"{SITE}{reverse('users:reminders-off', args=['TOKEN'])}".removesuffix("TOKEN")
    match = re.search(rf"Turn them off: ({re.escape(off_prefix)}(\S+))", message.body)
    assert match, message.body
    off_url, token = match.groups()
    assert signing.loads(token, salt=User.REMINDERS_OFF_SALT) == registration.user.pk
    assert f"(or on your account page: {account_url})" in message.body
    assert f'href="{off_url}"' in html_of(message)
    assert f'href="{account_url}"' in html_of(message)
    assert message.extra_headers["List-Unsubscribe"] == f"<{off_url}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ics_of(message).walk("VEVENT")
    # Run by hand again (a duplicate in the queue): still one.
    assert not tasks.registration_reminder_send.apply(args=(registration.pk,)).get()
    assert len(mail.outbox) == 1


def test_reminder_sweep_skips_whoever_is_not_owed_one(side_effects):
    now = timezone.now()
    soon = EventPostFactory(starts_at=now + dt.timedelta(hours=10))
    owed = registered_long_ago(soon)
    registered_long_ago(soon, user=UserFactory(email_reminders=False))
    registered_long_ago(soon, status=Status.WAITLISTED)
    registered_long_ago(soon, status=Status.CANCELLED, cancelled_at=now)
    # Registered inside the 24 hours: the confirmation said it is soon.
    EventRegistrationFactory(event=soon, registered_at=now - dt.timedelta(hours=1))
    registered_long_ago(EventPostFactory(starts_at=now + dt.timedelta(hours=30)))
    registered_long_ago(
        EventPostFactory(
            starts_at=now + dt.timedelta(hours=10),
            status=EventPost.Status.CANCELLED,
            cancellation_reason="Rain.",
        )
    )
    registered_long_ago(
        EventPostFactory(starts_at=now + dt.timedelta(hours=10), status=EventPost.Status.DRAFT)
    )
    started = EventPostFactory(starts_at=now - dt.timedelta(minutes=5))
    registered_long_ago(started)

    assert sweep(side_effects) == 1
    assert [m.to for m in mail.outbox] == [[owed.user.email]]


def test_a_student_promoted_inside_the_window_gets_no_separate_reminder(
    side_effects,
):
    event = EventPostFactory(capacity=1, starts_at=timezone.now() + dt.timedelta(hours=10))
    holder = registered_long_ago(event)
    waiting = registered_long_ago(event, status=Status.WAITLISTED)
    EventPost.objects.filter(pk=event.pk).update(seats_taken=1, waitlist_count=1)
    sweep(side_effects)  # the holder's reminder
    mail.outbox.clear()

    with side_effects(execute=True):
        services.registration_cancel(event_id=event.pk, user=holder.user)
    assert sweep(side_effects) == 0

    [promoted] = mail.outbox
    assert promoted.to == [waiting.user.email]
    assert "you won't get another one" in promoted.body


def test_a_postponed_event_reminds_again_the_day_before_its_new_start(
    side_effects,
):
    event = EventPostFactory(starts_at=timezone.now() + dt.timedelta(hours=20))
    registered_long_ago(event)
    sweep(side_effects)
    # A week later: the reminder went out a week ago, the event was moved by a week.
    EmailDelivery.objects.update(sent_at=timezone.now() - dt.timedelta(days=7))
    EventPost.objects.filter(pk=event.pk).update(
        starts_at=event.starts_at + dt.timedelta(minutes=30),
        ends_at=event.ends_at + dt.timedelta(minutes=30),
    )

    assert sweep(side_effects) == 1
    assert len(mail.outbox) == 2


def test_reminder_sweep_query_count_does_not_grow_with_registrations(
    django_assert_max_num_queries, side_effects
):
    event = EventPostFactory(starts_at=timezone.now() + dt.timedelta(hours=20))
    for _ in range(5):
        registered_long_ago(event)

    with django_assert_max_num_queries(1):
        ids = list(emails.reminders_due().values_list("pk", flat=True))
    assert len(ids) == 5


# --- Event changed --------------------------------------------------------------------------


@pytest.fixture
def event_with_registrants(side_effects):
    event = EventPostFactory(
        capacity=1,
        location_name="Olin Library",
        address="1 Brookings Dr",
        starts_at=dt.datetime(2030, 4, 2, 23, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2030, 4, 3, 1, 0, tzinfo=dt.UTC),
    )
    confirmed, waiting, gone = UserFactory.create_batch(3)
    for student in (confirmed, waiting, gone):
        register(event, student, side_effects)
    services.registration_cancel(event_id=event.pk, user=gone)
    mail.outbox.clear()
    return event, {confirmed.email, waiting.email}


def test_a_new_time_emails_confirmed_and_waitlisted_students_with_old_and_new(
    event_with_registrants, side_effects
):
    event, registrants = event_with_registrants

    with side_effects(execute=True):
        services.event_update(
            event_id=event.pk,
            by=event.organizer,
            starts_at=dt.datetime(2030, 4, 3, 23, 0, tzinfo=dt.UTC),
            ends_at=dt.datetime(2030, 4, 4, 1, 0, tzinfo=dt.UTC),
        )

    assert {m.to[0] for m in mail.outbox} == registrants
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.subject == f"Changed: {event.title}"
    for part in (message.body, html_of(message)):
        assert "changed the time" in part
        assert "Tuesday, April 2, 2030, 6:00 PM CDT" in part  # was
        assert "Wednesday, April 3, 2030, 6:00 PM CDT" in part  # now
        assert "Olin Library" in part
    [vevent] = ics_of(message).walk("VEVENT")
    assert vevent.decoded("DTSTART") == dt.datetime(2030, 4, 3, 23, 0, tzinfo=dt.UTC)


def test_a_new_place_emails_old_and_new_place(event_with_registrants, side_effects):
    event, registrants = event_with_registrants

    with side_effects(execute=True):
        services.event_update(
            event_id=event.pk, by=event.organizer, location_name="Graham <Chapel>"
        )

    assert {m.to[0] for m in mail.outbox} == registrants
    message = mail.outbox[0]
    assert "changed the place" in message.body
    assert "Where:  Graham <Chapel>, 1 Brookings Dr" in message.body
    assert "(was Olin Library, 1 Brookings Dr)" in message.body
    assert "Graham &lt;Chapel&gt;, 1 Brookings Dr" in html_of(message)


def test_other_edits_email_nobody(event_with_registrants, side_effects):
    event, _ = event_with_registrants

    with side_effects(execute=True):
        services.event_update(
            event_id=event.pk,
            by=event.organizer,
            title="New title",
            description="More words.",
            capacity=5,
            starts_at=event.starts_at,  # unchanged
        )

    # The capacity raise seats the waitlisted student: that e-mail, and no change notice.
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["A seat opened up — you're in"]
    assert not EventChange.objects.exists()


def test_a_change_then_a_cancellation_sends_only_the_cancellation(
    event_with_registrants, side_effects
):
    event, _ = event_with_registrants
    with side_effects(execute=False) as change_callbacks:
        services.event_update(event_id=event.pk, by=event.organizer, address="2 Brookings Dr")
    with side_effects(execute=True):
        services.event_cancel(event_id=event.pk, by=event.organizer, reason="Rain.")

    for callback in change_callbacks:
        callback()

    assert {m.subject.split(":")[0] for m in mail.outbox} == {"Cancelled"}


def test_a_draft_with_nobody_registered_records_no_change(side_effects):
    event = EventPostFactory(status=EventPost.Status.DRAFT)

    with side_effects(execute=True):
        services.event_update(event_id=event.pk, by=event.organizer, location_name="Brown Hall")

    assert not EventChange.objects.exists()
    assert mail.outbox == []


# --- Turning reminders off ---------------------------------------------------------------


def test_the_account_page_turns_reminders_off_and_on(client):
    student = UserFactory(display_name="Bear")
    client.force_login(student)
    form = {"display_name": "Bear", "leaderboard_visibility": "public", "pseudonym": ""}

    page = client.get(reverse("users:account")).content.decode()
    assert 'name="email_reminders"' in page
    assert "checked" in page.split('name="email_reminders"')[1].split(">")[0]

    client.post(reverse("users:account"), form)  # an unticked box is not sent
    student.refresh_from_db()
    assert student.email_reminders is False

    client.post(reverse("users:account"), {**form, "email_reminders": "on"})
    student.refresh_from_db()
    assert student.email_reminders is True


def test_the_link_in_a_reminder_turns_reminders_off_without_logging_in(client):
    student = UserFactory()
    url = reverse("users:reminders-off", args=[student.reminders_off_token()])

    # A GET (a link scanner, a preview) only asks.
    assert "Turn reminders off" in client.get(url).content.decode()
    student.refresh_from_db()
    assert student.email_reminders is True

    # The mail client's one-click POST carries no CSRF token.
    client.handler.enforce_csrf_checks = True
    response = client.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert "you won't get reminders" in response.content.decode()
    student.refresh_from_db()
    assert student.email_reminders is False


def test_a_forged_reminders_link_changes_nothing(client):
    student = UserFactory()
    token = student.reminders_off_token()
    other = UserFactory()
    forged = token.replace(token.split(":")[0], other.reminders_off_token().split(":")[0])

    for bad in (forged, "not-a-token", token + "x"):
        response = client.post(reverse("users:reminders-off", args=[bad]))
        assert response.status_code == 400
    assert set(UserFactory._meta.model.objects.values_list("email_reminders", flat=True)) == {True}


def test_the_organizer_edit_page_emails_only_when_time_or_place_changes(client, side_effects):
    event = EventPostFactory(location_name="Olin Library", address="")
    register(event, UserFactory(), side_effects)
    mail.outbox.clear()
    client.force_login(event.organizer)
    form = {
        "title": "New title",
        "category": event.category.pk,
        # The form shows minutes; the factory's start has seconds: unchanged all the same.
        "starts_at": timezone.localtime(event.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": timezone.localtime(event.ends_at).strftime("%Y-%m-%dT%H:%M"),
        "location_name": "Olin Library",
        "address": "",
        "capacity": event.capacity,
        "description": event.description,
    }
    url = reverse("events:edit", args=[event.pk])

    with side_effects(execute=True):
        assert client.post(url, form).status_code == 302
    assert mail.outbox == []

    with side_effects(execute=True):
        assert client.post(url, {**form, "location_name": "Simon Hall"}).status_code == 302
    [message] = mail.outbox
    assert message.subject == "Changed: New title"
    assert "(was Olin Library)" in message.body
