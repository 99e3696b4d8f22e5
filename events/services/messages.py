"""Organizer e-mails to an event's confirmed students, limited per event."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from core import clock, outbox
from core.ratelimits import rate_describe, rate_parse
from events import permissions, tasks
from events.errors import EventInvalid, MessageRateLimited
from events.models import EventRegistration, OrganizerMessage
from orgs import audit
from orgs.models import OrgActivity
from users.models import User

from .locking import event_locked


def organizer_message_send(*, event_id: int, by: User, subject: str, body: str) -> OrganizerMessage:
    """Queue an e-mail from the organizer to every confirmed student.

    At most settings.RATELIMITS["organizer_message_event"] per event (3 in any hour unless
    configured otherwise), counted from the rows;
    the event's row lock makes two organizers sending at once count each other.
    """
    subject, body = subject.strip(), body.strip()
    with event_locked(event_id=event_id, whole_row=True) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.MESSAGE)
        errors: dict[str, list[str]] = {}
        if not subject:
            errors["subject"] = ["Write a subject."]
        if not body:
            errors["body"] = ["Write a message."]
        message = OrganizerMessage(event=event, sent_by=by, subject=subject, body=body)
        try:
            message.full_clean(exclude=["event", "sent_by"])
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        if errors:
            raise EventInvalid(errors)
        now = timezone.now()
        rate = settings.RATELIMITS["organizer_message_event"]
        allowed, seconds = rate_parse(rate)
        window = timedelta(seconds=seconds)
        recent = list(
            OrganizerMessage.objects.filter(event=event, created_at__gt=now - window)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        if len(recent) >= allowed:
            next_at = recent[-allowed] + window
            raise MessageRateLimited(
                f"You can e-mail this event's students {rate_describe(rate)}. "
                f"Try again after {clock.day_and_time(next_at)}.",
                retry_after=max(int((next_at - now).total_seconds()) + 1, 1),
            )
        message.created_at = now
        message.recipient_count = EventRegistration.objects.filter(
            event=event, status=EventRegistration.Status.CONFIRMED
        ).count()
        message.save()
        outbox.add(tasks.organizer_message_send, message.pk, key=f"organizer-message:{message.pk}")
        if event.organization_id is not None:
            audit.record(
                organization_id=event.organization_id,
                actor=by,
                action=OrgActivity.Action.EVENT_MESSAGED,
                event=event,
                detail=subject[:300],
            )
    return message
