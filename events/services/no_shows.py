"""No-show release: seats of students who did not come go to the students waiting.

When the organizer turned it on (`EventPost.release_no_shows`) and students are waiting, at
the start plus the organizer's grace (`no_show_grace_minutes`, 10 by default) every
confirmed student not checked in is released (cancelled, `released_at` set, told by e-mail)
and the waitlist is promoted into the freed seats, first come first served, each promoted
student told at once. Beat runs the sweep every minute (`events.tasks.no_shows_release_due`),
so it happens with nobody on the organizer's page; it releases each event once
(`no_shows_released_at`), so students promoted late are not released in turn.

Race safety is the registration's: the release holds the event's row lock and locks the
rows it releases; a check-in locks the student's row. Whichever commits first wins the
seat, and the other sees it (events.services.check_in).
"""

import logging
from datetime import datetime

from django.utils import timezone

from core import metrics
from events.models import AttendanceRecord, EmailDelivery, EventPost, EventRegistration

from .locking import counters_add, event_locked
from .waitlist import registration_email_queue, waitlist_fill

logger = logging.getLogger(__name__)

EmailKind = EmailDelivery.Kind


def _release_due(event: EventPost, *, now: datetime) -> bool:
    return (
        event.status == EventPost.Status.PUBLISHED
        and event.release_no_shows
        and event.no_shows_released_at is None
        and event.waitlist_count > 0
        and event.no_shows_release_at <= now < event.ends_at
    )


def no_shows_release_due(*, now: datetime | None = None) -> int:
    """The beat sweep: release the no-shows of every event due; returns how many seats."""
    now = now or timezone.now()
    candidates = EventPost.objects.filter(
        status=EventPost.Status.PUBLISHED,
        release_no_shows=True,
        no_shows_released_at=None,
        starts_at__lte=now,
        ends_at__gt=now,
        waitlist_count__gt=0,
    ).only(
        "status",
        "release_no_shows",
        "no_shows_released_at",
        "waitlist_count",
        "starts_at",
        "ends_at",
        "no_show_grace_minutes",
    )
    released = sum(
        len(no_shows_release(event_id=event.pk, now=now))
        for event in candidates
        if _release_due(event, now=now)
    )
    if released:
        logger.info("Released %d no-show seats", released)
    return released


def no_shows_release(*, event_id: int, now: datetime | None = None) -> list[EventRegistration]:
    """Release the event's no-shows and seat the waitlist, if due; returns those released."""
    now = now or timezone.now()
    with event_locked(event_id=event_id, whole_row=True) as event:
        if not _release_due(event, now=now):
            return []
        # Rows a check-in holds are waited for, then read again: one checked in meanwhile
        # no longer matches and keeps the seat.
        no_shows = list(
            EventRegistration.objects.select_for_update(of=("self",))
            .filter(
                event_id=event.pk,
                status=EventRegistration.Status.CONFIRMED,
                checked_in_at__isnull=True,
            )
            .order_by("pk")
        )
        EventRegistration.objects.filter(pk__in=[r.pk for r in no_shows]).update(
            status=EventRegistration.Status.CANCELLED,
            cancelled_at=now,
            released_at=now,
            updated_at=now,
        )
        AttendanceRecord.objects.bulk_create(
            AttendanceRecord(
                registration=registration,
                action=AttendanceRecord.Action.RELEASED,
                method=AttendanceRecord.Method.SWEEP,
                created_at=now,
            )
            for registration in no_shows
        )
        counters_add(event=event, seats=-sum(registration.seats for registration in no_shows))
        for registration in no_shows:
            registration.status = EventRegistration.Status.CANCELLED
            registration.cancelled_at = registration.released_at = now
            registration_email_queue(registration=registration, kind=EmailKind.RELEASED)
        promoted = waitlist_fill(event=event)
        for seated in promoted:
            registration_email_queue(registration=seated, kind=EmailKind.PROMOTED)
        event.no_shows_released_at = now
        event.save(update_fields=["no_shows_released_at", "updated_at"])
        metrics.increment_on_commit("no_shows.released", len(no_shows))
    logger.info(
        "Event %s: released %d no-shows, promoted %d", event_id, len(no_shows), len(promoted)
    )
    return no_shows
