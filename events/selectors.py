"""Reads: every query the event pages run lives here."""

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce

from .models import EventPost, EventRegistration


def event_list_upcoming() -> QuerySet[EventPost]:
    return EventPost.objects.upcoming().select_related("category")


def event_get_visible(*, event_id: int) -> EventPost:
    """A published or cancelled event; drafts are private to their organizer."""
    return EventPost.objects.select_related("category", "organizer").get(
        pk=event_id, status__in=[EventPost.Status.PUBLISHED, EventPost.Status.CANCELLED]
    )


def registration_get_for_user(*, event_id: int, user) -> EventRegistration | None:
    """The student's registration for the event in any status, or None (also when logged out)."""
    if not user.is_authenticated:
        return None
    return EventRegistration.objects.filter(event_id=event_id, user=user).first()


def _waitlisted_ahead(*, event_id, registered_at, pk) -> Q:
    """Registrations ahead in the event's waitlist queue: FIFO by (registered_at, pk)."""
    return Q(event_id=event_id, status=EventRegistration.Status.WAITLISTED) & (
        Q(registered_at__lt=registered_at) | Q(registered_at=registered_at, pk__lt=pk)
    )


def registration_waitlist_position(*, registration: EventRegistration) -> int | None:
    """1-based place in the event's waitlist, or None when the registration is not waiting."""
    if registration.status != EventRegistration.Status.WAITLISTED:
        return None
    ahead = EventRegistration.objects.filter(
        _waitlisted_ahead(
            event_id=registration.event_id,
            registered_at=registration.registered_at,
            pk=registration.pk,
        )
    ).count()
    return ahead + 1


def registration_list_for_user(*, user) -> QuerySet[EventRegistration]:
    """The student's active registrations with their events, each with `waitlist_position`.

    The position is one subquery per row of the same query, so a page of registrations is
    one query however many are waitlisted.
    """
    ahead = (
        EventRegistration.objects.filter(
            _waitlisted_ahead(
                event_id=OuterRef("event_id"),
                registered_at=OuterRef("registered_at"),
                pk=OuterRef("pk"),
            )
        )
        .order_by()
        .values("event_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        EventRegistration.objects.filter(user=user)
        .exclude(status=EventRegistration.Status.CANCELLED)
        .select_related("event", "event__category")
        .annotate(
            waitlist_position=Case(
                When(
                    status=EventRegistration.Status.WAITLISTED,
                    then=Coalesce(Subquery(ahead), 0) + 1,
                ),
                default=None,
                output_field=IntegerField(),
            )
        )
        .order_by("event__starts_at", "event_id")
    )
