"""A student's "not interested" in a recommended event, and its undo."""

from django.db import transaction

from events import permissions, recommendations
from events.models import RecommendationDismissal


def _picks_forget(*, user_id: int) -> None:
    recommendations.recommendations_forget_on_commit(user_id=user_id)


@transaction.atomic
def recommendation_dismiss(*, event_id: int, user) -> RecommendationDismissal:
    """Hide the event from the student's picks for good (and count against similar ones).

    Only an event the student may see can be hidden (EventNotFound / ActionForbidden
    otherwise); hiding twice keeps the first row.
    """
    event = permissions.event_get_authorized(
        event_id=event_id, user=user, action=permissions.Action.VIEW
    )
    dismissal, _ = RecommendationDismissal.objects.get_or_create(user=user, event=event)
    _picks_forget(user_id=user.pk)
    return dismissal


@transaction.atomic
def recommendation_undismiss(*, event_id: int, user) -> bool:
    """Undo "not interested"; False when the event was not hidden."""
    deleted, _ = RecommendationDismissal.objects.filter(user=user, event_id=event_id).delete()
    _picks_forget(user_id=user.pk)
    return bool(deleted)
