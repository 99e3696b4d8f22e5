"""The E-score of the seeded check-ins, awarded by the live services, not a copy of them.

`escore.services.attendance_ledger_sync` takes each student's check-ins in one call (a few
queries a student, however many events), and `organizer_ledger_award` each event whose
award is due by the live rule: ended `rules.ORGANIZER_AWARD_AFTER` ago, with enough
attendees. Both write the ledger only; seed_demo rebuilds the leaderboards once at the end.
Idempotent like the rest of the seed: a rerun adds nothing.
"""

from itertools import groupby
from operator import itemgetter

from django.utils import timezone

from escore.models import ScoreEntry
from escore.selectors import organizer_awards_due
from escore.services import attendance_ledger_sync, organizer_ledger_award
from events.models import EventRegistration


def demo_scores_award() -> int:
    """Create the missing entries for every check-in and every organizer award; returns how many."""
    before = ScoreEntry.objects.count()
    checked_in = (
        EventRegistration.objects.filter(
            checked_in_at__isnull=False, status=EventRegistration.Status.CONFIRMED
        )
        .order_by("user_id", "event_id")
        .values_list("user_id", "event_id")
    )
    for user_id, rows in groupby(checked_in, key=itemgetter(0)):
        attendance_ledger_sync(user_id=user_id, event_ids=[event_id for _, event_id in rows])
    now = timezone.now()
    # Every event that took place, not only the last week's as the beat sweep looks at.
    for event_id in organizer_awards_due(now=now, lookback=None):
        organizer_ledger_award(event_id=event_id, now=now)
    return ScoreEntry.objects.count() - before
