"""The waitlist: first come, first served, promoted while seats are free."""

from django.utils import timezone

from core import outbox
from events import tasks
from events.models import EmailDelivery, EventPost, EventRegistration

from .locking import counters_add

EmailKind = EmailDelivery.Kind


def waitlist_fill(*, event: EventPost) -> list[EventRegistration]:
    """Confirm waitlisted students, first come first served, while seats are free.

    Must run with the event locked. Returns the promoted registrations.
    """
    if event.waitlist_count == 0:
        return []
    queue = EventRegistration.objects.filter(
        event=event, status=EventRegistration.Status.WAITLISTED
    ).order_by("registered_at", "pk")
    if event.capacity is not None:
        free_seats = event.capacity - event.seats_taken
        if free_seats <= 0:
            return []
        queue = queue[:free_seats]
    promoted = list(queue)
    if not promoted:
        return []
    EventRegistration.objects.filter(pk__in=[r.pk for r in promoted]).update(
        status=EventRegistration.Status.CONFIRMED, updated_at=timezone.now()
    )
    for registration in promoted:
        registration.status = EventRegistration.Status.CONFIRMED
    counters_add(event=event, seats=len(promoted), waitlist=-len(promoted))
    return promoted


def registration_email_queue(*, registration: EventRegistration, kind: EmailKind) -> None:
    # Keyed like the e-mail itself: one per registration, kind and registration time.
    key = f"registration:{registration.pk}:{kind.value}:{registration.registered_at.isoformat()}"
    outbox.add(tasks.registration_email_send, registration.pk, kind.value, key=key)
