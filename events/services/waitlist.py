"""The waitlist: first come, first served, promoted while seats are free."""

from django.utils import timezone

from core import outbox
from events import tasks
from events.models import EmailDelivery, EventPost, EventRegistration

from .locking import counters_add

EmailKind = EmailDelivery.Kind


def waitlist_fill(*, event: EventPost) -> list[EventRegistration]:
    """Confirm waitlisted students, first come first served, while their seats are free.

    The waitlist works in seats: a student bringing guests is promoted when all their seats
    are free, and nobody behind them jumps the queue meanwhile. Must run with the event
    locked. Returns the promoted registrations.
    """
    if event.waitlist_count == 0:
        return []
    queue = EventRegistration.objects.filter(
        event=event, status=EventRegistration.Status.WAITLISTED
    ).order_by("registered_at", "pk")
    if event.capacity is None:
        promoted = list(queue)
    else:
        free_seats = event.capacity - event.seats_taken
        if free_seats <= 0:
            return []
        promoted = []
        # Each registration needs at least one seat, so no more than free_seats can fit.
        for registration in queue[:free_seats]:
            if registration.seats > free_seats:
                break
            promoted.append(registration)
            free_seats -= registration.seats
    if not promoted:
        return []
    EventRegistration.objects.filter(pk__in=[r.pk for r in promoted]).update(
        status=EventRegistration.Status.CONFIRMED, updated_at=timezone.now()
    )
    seats = 0
    for registration in promoted:
        registration.status = EventRegistration.Status.CONFIRMED
        seats += registration.seats
    counters_add(event=event, seats=seats, waitlist=-seats)
    return promoted


def registration_email_queue(*, registration: EventRegistration, kind: EmailKind) -> None:
    # Keyed like the e-mail itself: one per registration, kind and registration time.
    key = f"registration:{registration.pk}:{kind.value}:{registration.registered_at.isoformat()}"
    outbox.add(tasks.registration_email_send, registration.pk, kind.value, key=key)
