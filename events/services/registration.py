"""Registering and cancelling: a seat while seats remain, else the end of the waitlist.

Every write that changes who holds a seat runs under the event's row lock (`locking`);
e-mails are outbox rows of the same transaction (`core.outbox`), so a rolled-back
registration sends nothing and a committed one always has its e-mail.
"""

from collections.abc import Mapping

from django.utils import timezone

from core import clock, metrics
from events import permissions
from events.errors import (
    AlreadyCheckedIn,
    CancellationClosed,
    EmailUnverified,
    EventCancelled,
    EventClosed,
    EventInvalid,
    EventNotFound,
    NotEligible,
    NotRegistered,
    RegistrationNotNeeded,
    RegistrationNotOpenYet,
)
from events.models import (
    EmailDelivery,
    EventPost,
    EventQuestion,
    EventRegistration,
    RegistrationAnswer,
)
from events.recommendations import recommendations_forget_on_commit
from users.models import User
from users.selectors import user_has_verified_school_email

from .locking import counters_add, event_locked
from .questions import answers_clean, answers_replace
from .waitlist import registration_email_queue, waitlist_fill

EmailKind = EmailDelivery.Kind


def registration_check_eligibility(*, user: User) -> None:
    """Raise NotEligible unless the user may register for events.

    The one place that decides who may register: an active account whose address is a
    verified school e-mail (EmailUnverified, which the pages and API turn into "confirm your
    e-mail, or send the link again").
    """
    if not user.is_authenticated or not user.is_active:
        raise NotEligible()
    if not user_has_verified_school_email(user=user):
        raise EmailUnverified()


def registration_create(
    *, event_id: int, user: User, guests: int = 0, answers: Mapping[str, str] | None = None
) -> EventRegistration:
    """Register the student and their guests: confirmed while their seats are free and
    nobody waits, else the end of the waitlist (which works in seats, first come first served).
    `answers` maps the event's question ids (as text) to the student's answers.

    Registration is open inside the event's window (by default until the start); events
    without registration refuse. Registering again while registered returns the existing
    registration unchanged (a double submit is harmless); a cancelled registration is
    re-activated at the back of the queue.
    """
    registration_check_eligibility(user=user)
    with event_locked(event_id=event_id) as event:
        _check_open(event=event)
        # Members-only and school-only events: only those who may see them may register.
        permissions.event_check_visibility(user=user, event=event)
        registration = EventRegistration.objects.filter(event=event, user=user).first()
        if registration is not None and registration.status != EventRegistration.Status.CANCELLED:
            return registration
        _check_guests(event=event, guests=guests)
        questions = EventQuestion.objects.filter(event_id=event.pk)
        answered = answers_clean(questions=questions, answers=answers or {})

        # Seats freed without a promotion (e.g. capacity raised) go to the queue first.
        promoted = waitlist_fill(event=event)
        seats = 1 + guests
        confirmed = event.waitlist_count == 0 and (
            event.capacity is None or event.capacity - event.seats_taken >= seats
        )
        status = (
            EventRegistration.Status.CONFIRMED if confirmed else EventRegistration.Status.WAITLISTED
        )
        now = timezone.now()
        new = registration is None
        if registration is None:
            # By id: the locked event is a partial instance, not for callers to render.
            registration = EventRegistration.objects.create(
                event_id=event.pk, user=user, status=status, registered_at=now, guests=guests
            )
        else:
            registration.status = status
            registration.registered_at = now
            registration.cancelled_at = None
            registration.guests = guests
            registration.save(
                update_fields=["status", "registered_at", "cancelled_at", "guests", "updated_at"]
            )
        answers_replace(registration=registration, answers=answered, new=new)
        if confirmed:
            counters_add(event=event, seats=seats)
        else:
            counters_add(event=event, waitlist=seats)

        for seated in promoted:
            registration_email_queue(registration=seated, kind=EmailKind.PROMOTED)
        registration_email_queue(
            registration=registration,
            kind=EmailKind.CONFIRMED if confirmed else EmailKind.WAITLISTED,
        )
        metrics.increment_on_commit("registrations.created", tags={"status": status})
        # "For you" leaves out events registered for and learns from them.
        recommendations_forget_on_commit(user_id=user.pk)
    return registration


def registration_cancel(*, event_id: int, user: User) -> EventRegistration:
    """Cancel the student's registration; a freed seat goes to the first student waiting.

    Allowed until the event's cancellation deadline (by default, while registration is open).
    Cancelling an already cancelled registration returns it unchanged (a double submit is
    harmless); a checked-in registration cannot be cancelled.
    """
    if not user.is_authenticated:
        raise NotRegistered()
    with event_locked(event_id=event_id) as event:
        _check_cancellation_open(event=event)
        registration = (
            EventRegistration.objects.select_for_update().filter(event=event, user=user).first()
        )
        if registration is None:
            raise NotRegistered()
        if registration.status == EventRegistration.Status.CANCELLED:
            return registration
        if registration.checked_in_at is not None:
            raise AlreadyCheckedIn()

        was_confirmed = registration.status == EventRegistration.Status.CONFIRMED
        registration.status = EventRegistration.Status.CANCELLED
        registration.cancelled_at = timezone.now()
        registration.save(update_fields=["status", "cancelled_at", "updated_at"])
        # Answers may be health data (dietary, accessibility): kept no longer than needed.
        RegistrationAnswer.objects.filter(registration=registration).delete()
        if was_confirmed:
            counters_add(event=event, seats=-registration.seats)
        else:
            counters_add(event=event, waitlist=-registration.seats)
        metrics.increment_on_commit("registrations.cancelled")
        recommendations_forget_on_commit(user_id=user.pk)

        for seated in waitlist_fill(event=event):
            registration_email_queue(registration=seated, kind=EmailKind.PROMOTED)
    return registration


def registration_forget(*, event_id: int, user: User) -> None:
    """Delete the user's registration whatever the event's state (the account is closing).

    The counters follow the rows; a seat freed before the event starts goes to the waitlist.
    """
    with event_locked(event_id=event_id) as event:
        registration = (
            EventRegistration.objects.select_for_update().filter(event=event, user=user).first()
        )
        if registration is None:
            return
        if registration.status == EventRegistration.Status.CONFIRMED:
            counters_add(event=event, seats=-registration.seats)
        elif registration.status == EventRegistration.Status.WAITLISTED:
            counters_add(event=event, waitlist=-registration.seats)
        registration.delete()
        if event.status == EventPost.Status.PUBLISHED and event.starts_at > timezone.now():
            for seated in waitlist_fill(event=event):
                registration_email_queue(registration=seated, kind=EmailKind.PROMOTED)


def _check_guests(*, event: EventPost, guests: int) -> None:
    if guests < 0:
        raise EventInvalid({"guests": ["The number of guests cannot be negative."]})
    if guests > event.guests_max:
        allowed = (
            "This event takes no guests."
            if event.guests_max == 0
            else f"You may bring at most {event.guests_max} guests."
        )
        raise EventInvalid({"guests": [allowed]}, allowed)


def _check_published(*, event: EventPost) -> None:
    if event.status == EventPost.Status.DRAFT:
        raise EventNotFound()
    if event.status == EventPost.Status.CANCELLED:
        raise EventCancelled()


def _check_open(*, event: EventPost) -> None:
    """Raise why registration is not open (`EventPost.registration_open`), if it is not."""
    if event.registration_open:
        return
    _check_published(event=event)
    if not event.registration_required:
        raise RegistrationNotNeeded()
    if event.registration_not_yet_open and event.registration_opens_at is not None:
        raise RegistrationNotOpenYet(
            f"Registration opens {clock.day_and_time(event.registration_opens_at)}."
        )
    if event.registration_closes_at is not None:
        raise EventClosed(
            f"Registration closed {clock.day_and_time(event.registration_closes_at)}."
        )
    raise EventClosed()


def _check_cancellation_open(*, event: EventPost) -> None:
    """Raise why cancelling is not possible any more (`EventPost.cancellation_open`)."""
    if event.cancellation_open:
        return
    _check_published(event=event)
    if event.cancellation_deadline is not None or event.registration_closes_at is not None:
        raise CancellationClosed(
            f"The deadline for cancelling was {clock.day_and_time(event.cancellation_ends_at)}."
        )
    raise EventClosed()
