"""Reads: every query the event pages run lives here."""

from django.db.models import QuerySet

from .models import EventPost


def event_list_upcoming() -> QuerySet[EventPost]:
    return EventPost.objects.upcoming().select_related("category")


def event_get_visible(*, event_id: int) -> EventPost:
    """A published or cancelled event; drafts are private to their organizer."""
    return EventPost.objects.select_related("category", "organizer").get(
        pk=event_id, status__in=[EventPost.Status.PUBLISHED, EventPost.Status.CANCELLED]
    )
