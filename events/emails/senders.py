"""The e-mails students get about events: what each says, to whom, and when it is owed."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from events.models import EmailDelivery, EventChange, EventPost, EventRegistration, OrganizerMessage
from events.selectors import join_url_for_registration, registration_waitlist_position

from .delivery import (
    SUBJECTS,
    Kind,
    absolute,
    campus_time,
    deliver,
    deliver_each,
    ics_attachment,
    one_line,
    place_text,
    registrants,
    render,
)

# Reminders go out this long before the start; whoever registers later gets none.
REMINDER_LEAD = timedelta(hours=24)

# The registration status each e-mail announces. A message whose news is no longer true
# when the task runs (the student cancelled in between) is not sent.
_STATUS_ANNOUNCED = {
    Kind.CONFIRMED: EventRegistration.Status.CONFIRMED,
    Kind.WAITLISTED: EventRegistration.Status.WAITLISTED,
    Kind.PROMOTED: EventRegistration.Status.CONFIRMED,
    Kind.RELEASED: EventRegistration.Status.CANCELLED,
}


def _registration_key(registration: EventRegistration, kind: str) -> str:
    # registered_at tells a re-registration apart: a student can be promoted twice.
    return f"registration:{registration.pk}:{kind}:{registration.registered_at.isoformat()}"


def registration_email_send(*, registration_id: int, kind: str) -> bool:
    """Send the e-mail of this kind about the registration; False when not sent now."""
    kind = Kind(kind)
    registration = (
        EventRegistration.objects.select_related("event__category", "user")
        .filter(pk=registration_id)
        .first()
    )
    if registration is None or registration.status != _STATUS_ANNOUNCED[kind]:
        return False
    event, user = registration.event, registration.user
    # Only a confirmed seat gets the join link of an online or hybrid event.
    join_url = join_url_for_registration(registration)
    attachments = (
        []
        if kind in (Kind.WAITLISTED, Kind.RELEASED)
        else [ics_attachment(event, join_url=join_url)]
    )
    email = render(
        kind.value,
        subject=SUBJECTS[kind].format(title=one_line(event.title)),
        user=user,
        event=event,
        reason="You registered for this event on E-Ren.",
        attachments=attachments,
        position=registration_waitlist_position(registration=registration),
        # Inside the reminder window no separate reminder follows: this e-mail is it.
        starts_soon=event.starts_at - timezone.now() <= REMINDER_LEAD,
        # Promoted when no-shows were released: the event is on, come now.
        started=event.starts_at <= timezone.now(),
        join_url=join_url,
    )
    return deliver(
        key=_registration_key(registration, kind),
        kind=kind,
        user=user,
        registration=registration,
        email=email,
    )


# --- Reminders ------------------------------------------------------------------------------


def reminders_due(*, now: datetime | None = None) -> QuerySet[EventRegistration]:
    """Confirmed registrations of published events starting within REMINDER_LEAD that are owed
    a reminder.

    Not owed: students who turned reminders off; registrations made inside the window (their
    confirmation said it is soon); registrations already sent a reminder, a confirmation or a
    promotion inside the window before the event's current start. Comparing with the
    current start means an event moved a week later reminds again, the day before.
    """
    now = now or timezone.now()
    recently_told = EmailDelivery.objects.filter(
        registration=OuterRef("pk"),
        kind__in=[Kind.REMINDER, Kind.CONFIRMED, Kind.PROMOTED],
        sent_at__gte=OuterRef("event__starts_at") - REMINDER_LEAD,
    )
    return (
        EventRegistration.objects.filter(
            status=EventRegistration.Status.CONFIRMED,
            event__status=EventPost.Status.PUBLISHED,
            event__starts_at__gt=now,
            event__starts_at__lte=now + REMINDER_LEAD,
            registered_at__lt=F("event__starts_at") - REMINDER_LEAD,
            user__is_active=True,
            user__email_reminders=True,
        )
        .filter(~Exists(recently_told))
        .order_by("event__starts_at", "pk")
    )


def reminder_email_send(*, registration_id: int) -> bool:
    """Remind the student of the event tomorrow, if the registration is still owed one."""
    registration = (
        reminders_due().select_related("event__category", "user").filter(pk=registration_id).first()
    )
    if registration is None:
        return False
    event, user = registration.event, registration.user
    reminders_off_url = absolute(reverse("users:reminders-off", args=[user.reminders_off_token()]))
    join_url = join_url_for_registration(registration)
    email = render(
        "reminder",
        subject=SUBJECTS[Kind.REMINDER].format(title=one_line(event.title)),
        user=user,
        event=event,
        reason="You registered for this event on E-Ren and asked for reminders.",
        attachments=[ics_attachment(event, join_url=join_url)],
        join_url=join_url,
        reminders_off_url=reminders_off_url,
        # One-click unsubscribe in the mail client (RFC 8058), for reminders only.
        headers=[
            ("List-Unsubscribe", f"<{reminders_off_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ],
    )
    return deliver(
        key=f"reminder:{registration.pk}:{event.starts_at.isoformat()}",
        kind=Kind.REMINDER,
        user=user,
        registration=registration,
        email=email,
    )


# --- E-mails to everyone registered ---------------------------------------------------------


def event_cancelled_email_send(*, event_id: int) -> int:
    """Tell everyone confirmed or waiting that the event is cancelled, and why."""
    event = (
        EventPost.objects.select_related("category")
        .filter(pk=event_id, status=EventPost.Status.CANCELLED)
        .first()
    )
    if event is None:
        return 0
    return _tell_registered(
        event,
        Kind.EVENT_CANCELLED,
        key=f"event-cancelled:{event.pk}",
        # Calendars that took the event from an earlier e-mail or the feed remove it.
        attachments=[ics_attachment(event, method="CANCEL")],
    )


def event_changed_email_send(*, change_id: int) -> int:
    """Tell everyone confirmed or waiting that the event's time or place changed."""
    change = (
        EventChange.objects.select_related("event__category")
        .filter(pk=change_id, event__status=EventPost.Status.PUBLISHED)
        .first()
    )
    if change is None:
        # Gone, or cancelled or unpublished since: that news replaces this one.
        return 0
    event = change.event
    return _tell_registered(
        event,
        Kind.EVENT_CHANGED,
        key=f"event-changed:{change.pk}",
        change=change,
        when_before=campus_time(change.starts_at_before),
        ends_before=campus_time(change.ends_at_before),
        when_after=campus_time(change.starts_at_after),
        ends_after=campus_time(change.ends_at_after),
        place_before=place_text(change.location_name_before, change.address_before),
        place_after=place_text(change.location_name_after, change.address_after),
        # The same calendar entry for everyone: rendered once, not once per student.
        attachments=[ics_attachment(event)],
    )


def _tell_registered(event: EventPost, kind: Kind, *, key: str, **context: Any) -> int:
    """The news of `kind` to everyone confirmed or waiting, once each (`key`:<user id>)."""
    subject = SUBJECTS[kind].format(title=one_line(event.title))
    return deliver_each(
        registrations=registrants(
            event, EventRegistration.Status.CONFIRMED, EventRegistration.Status.WAITLISTED
        ),
        key_for=lambda registration: f"{key}:{registration.user_id}",
        kind=kind,
        email_for=lambda registration: render(
            kind,
            subject=subject,
            user=registration.user,
            event=event,
            reason="You registered for this event on E-Ren.",
            waitlisted=registration.status == EventRegistration.Status.WAITLISTED,
            **context,
        ),
    )


def organizer_message_email_send(*, message_id: int) -> int:
    """E-mail an organizer's message to every confirmed student; once per student."""
    message = (
        OrganizerMessage.objects.select_related("event__category", "sent_by")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return 0
    event = message.event
    sender = message.sent_by.get_full_name() if message.sent_by else "The organizer"
    subject = f"{one_line(event.title)}: {one_line(message.subject)}"
    sent = deliver_each(
        registrations=registrants(event, EventRegistration.Status.CONFIRMED),
        key_for=lambda registration: f"organizer-message:{message.pk}:{registration.user_id}",
        kind=Kind.ORGANIZER_MESSAGE,
        email_for=lambda registration: render(
            "organizer_message",
            subject=subject,
            user=registration.user,
            event=event,
            reason="You are registered for this event, and its organizer wrote to everyone "
            "registered.",
            message=message,
            sender=sender,
        ),
    )
    OrganizerMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    return sent


# --- Clean-up -------------------------------------------------------------------------------


def email_delivery_delete_old(*, older_than: timedelta) -> int:
    """Drop idempotency records older than `older_than`; returns how many.

    Safe once no task can still retry the e-mail (retries give up within an hour) and the
    reminder sweep no longer looks at it (REMINDER_LEAD before an event's start).
    """
    count, _ = EmailDelivery.objects.filter(sent_at__lt=timezone.now() - older_than).delete()
    return count
