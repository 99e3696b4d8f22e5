"""E-score for seed_demo: score the demo check-ins in bulk, by the same rules.

The live path (`services.score_attendance_sync`) handles one registration at a time under a
lock; for thousands of seeded check-ins that would take minutes, so this writes the same
entries with a few queries and `bulk_create(ignore_conflicts=True)`, and is idempotent like
the rest of seed_demo. It only fills what is missing: a category bonus is added for a
(student, category) that has none yet, on the earliest-starting checked-in event, so a
rerun with more events never grants a second bonus in a category.
"""

from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from events.models import EventPost, EventRegistration

from . import rules
from .models import ScoreEntry

BATCH_SIZE = 5000


def demo_scores_award() -> int:
    """Create the missing entries for every check-in and every organizer award; returns how many."""
    before = ScoreEntry.objects.count()
    checked_in = list(
        EventRegistration.objects.filter(
            checked_in_at__isnull=False, status=EventRegistration.Status.CONFIRMED
        )
        .order_by("user_id", "event__category_id", "event__starts_at", "event_id")
        .values_list("user_id", "event_id", "event__category_id")
    )
    entries = [
        ScoreEntry(
            user_id=user_id,
            event_id=event_id,
            reason=ScoreEntry.Reason.ATTENDED,
            points=rules.ATTENDED_POINTS,
        )
        for user_id, event_id, _ in checked_in
    ]
    has_bonus = set(
        ScoreEntry.objects.filter(reason=ScoreEntry.Reason.NEW_CATEGORY).values_list(
            "user_id", "event__category_id"
        )
    )
    for user_id, event_id, category_id in checked_in:  # earliest event first per category
        if (user_id, category_id) not in has_bonus:
            has_bonus.add((user_id, category_id))
            entries.append(
                ScoreEntry(
                    user_id=user_id,
                    event_id=event_id,
                    reason=ScoreEntry.Reason.NEW_CATEGORY,
                    points=rules.NEW_CATEGORY_POINTS,
                )
            )
    # Demo check-ins are final, so organizers are awarded as soon as their event has ended.
    took_place = (
        EventPost.objects.filter(status=EventPost.Status.PUBLISHED, ends_at__lte=timezone.now())
        .filter(
            ~Exists(
                ScoreEntry.objects.filter(event=OuterRef("pk"), reason=ScoreEntry.Reason.ORGANIZED)
            )
        )
        .annotate(
            attendees=Count(
                "registrations",
                filter=Q(
                    registrations__checked_in_at__isnull=False,
                    registrations__status=EventRegistration.Status.CONFIRMED,
                )
                & ~Q(registrations__user_id=F("organizer_id")),
            )
        )
        .filter(attendees__gte=rules.ORGANIZED_MIN_ATTENDEES)
        .values_list("pk", "organizer_id", "attendees")
    )
    entries.extend(
        ScoreEntry(
            user_id=organizer_id,
            event_id=event_id,
            reason=ScoreEntry.Reason.ORGANIZED,
            points=rules.organizer_points(checked_in_attendees=attendees),
            note=f"{attendees} checked in",
        )
        for event_id, organizer_id, attendees in took_place
    )
    ScoreEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE, ignore_conflicts=True)
    return ScoreEntry.objects.count() - before
