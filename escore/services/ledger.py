"""Writes to the E-score ledger: attendance (and the category bonus), organizer awards.

Entry points take ids, are idempotent and are meant to run from a Celery task (an outbox
row or a beat sweep), outside any transaction:

- `score_attendance_sync(registration_id=…)` makes the ledger match the registration's
  current check-in (award, or reverse with compensating entries), in either direction;
- `score_organizer_award(event_id=…)` and the sweep `score_organizer_awards_due()`;
- `score_attendance_reconcile()`, for check-ins whose task never ran.

`attendance_ledger_sync` and `organizer_ledger_award` write the ledger alone (the demo seed
calls them in bulk, then rebuilds the leaderboards once); the other entry points then
refresh the leaderboards (`leaderboards`).

Ledger writes for one student are serialised by a lock on their user row (FOR NO KEY
UPDATE, held for milliseconds, inside one transaction), and each entry is unique per (user,
event, reason, generation), so replays and races add nothing. The ledger commits first; the
leaderboard refresh after it may raise `redis.RedisError`, which the task retries (the sync
then adds nothing and only the refresh is repeated), and the periodic reconcile repairs
whatever a lost refresh left behind.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from itertools import groupby
from operator import itemgetter

from django.db import transaction
from django.db.models import IntegerField, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis import RedisError

from escore import rules
from escore.models import ScoreEntry
from escore.selectors import organizer_awards_due
from events.models import EventPost, EventRegistration
from users.models import User

from .leaderboards import leaderboard_refresh_user, leaderboard_refresh_users

logger = logging.getLogger(__name__)

ATTENDANCE_REASONS = (ScoreEntry.Reason.ATTENDED, ScoreEntry.Reason.ATTENDED_REVERSED)
BONUS_REASONS = (ScoreEntry.Reason.NEW_CATEGORY, ScoreEntry.Reason.NEW_CATEGORY_REVERSED)


# --- attendance -------------------------------------------------------------------------------


def _user_lock(*, user_id: int) -> None:
    """Serialise ledger writes for one student until the transaction ends.

    FOR NO KEY UPDATE does not block rows that merely reference the user (registrations,
    score entries), only other writers of the user row, for a few milliseconds.
    """
    list(User.objects.select_for_update(no_key=True).filter(pk=user_id).values_list("pk"))


def attendance_ledger_sync(
    *, user_id: int, event_ids: Collection[int], note: str = ""
) -> list[ScoreEntry]:
    """Make the student's ledger match their check-ins at these events now; no leaderboard.

    Checked in and not (or no longer) credited: `attended` +10 (a new generation after an
    undo). Not checked in but credited: `attended_reversed` for exactly what was granted.
    The category bonus of each category involved is then moved to where the rules say it
    belongs. Under the student's lock, a few queries whatever the number of events; running
    it again, in any order with other syncs, adds nothing. Returns the entries created.
    `note` goes on the `attended` entries it adds (an accepted dispute names who decided).
    """
    with transaction.atomic():
        _user_lock(user_id=user_id)
        # Read after taking the lock: a check-in or undo committed meanwhile is seen.
        checked_in = set(
            EventRegistration.objects.filter(
                user_id=user_id,
                event_id__in=event_ids,
                status=EventRegistration.Status.CONFIRMED,
                checked_in_at__isnull=False,
            ).values_list("event_id", flat=True)
        )
        created = _attended_sync(
            user_id=user_id, event_ids=event_ids, checked_in=checked_in, note=note
        )
        category_ids = set(
            EventPost.objects.filter(pk__in=event_ids).values_list("category_id", flat=True)
        )
        created += _breadth_bonus_sync(user_id=user_id, category_ids=category_ids)
    return created


def score_attendance_sync(*, registration_id: int) -> list[ScoreEntry]:
    """After a check-in or its undo: sync the ledger for it, then refresh the leaderboards."""
    registration = (
        EventRegistration.objects.filter(pk=registration_id).values("user_id", "event_id").first()
    )
    if registration is None:
        # Deleted with its student or event: nothing left to score, and no retry helps.
        logger.info("E-score sync skipped: registration %s no longer exists", registration_id)
        return []
    user_id = registration["user_id"]
    created = attendance_ledger_sync(user_id=user_id, event_ids=[registration["event_id"]])
    if created:
        logger.info(
            "E-score for user %s after registration %s: %s",
            user_id,
            registration_id,
            ", ".join(f"{entry.reason} {entry.points:+d}" for entry in created),
        )
    leaderboard_refresh_user(user_id=user_id)
    return created


def _attended_sync(
    *, user_id: int, event_ids: Collection[int], checked_in: set[int], note: str = ""
) -> list[ScoreEntry]:
    state = {
        row["event_id"]: (row["net"], row["generation"])
        for row in ScoreEntry.objects.filter(
            user_id=user_id, event_id__in=event_ids, reason__in=ATTENDANCE_REASONS
        )
        .values("event_id")
        .annotate(net=Sum("points"), generation=Max("generation"))
        .order_by()
    }
    entries = []
    for event_id in event_ids:
        net, generation = state.get(event_id, (0, 0))
        entry_note = ""
        if event_id in checked_in and net <= 0:
            reason, points = ScoreEntry.Reason.ATTENDED, rules.ATTENDED_POINTS
            generation += 1
            entry_note = note[:200]
        elif event_id not in checked_in and net > 0:
            reason, points = ScoreEntry.Reason.ATTENDED_REVERSED, -net
        else:
            continue
        entries.append(
            ScoreEntry(
                user_id=user_id,
                event_id=event_id,
                reason=reason,
                points=points,
                generation=generation,
                note=entry_note,
            )
        )
    return ScoreEntry.objects.bulk_create(entries)


def _breadth_bonus_sync(*, user_id: int, category_ids: Collection[int]) -> list[ScoreEntry]:
    """Put each category's bonus on its earliest-starting event with attendance points."""
    per_event = (
        ScoreEntry.objects.filter(
            user_id=user_id,
            event__category_id__in=category_ids,
            reason__in=ATTENDANCE_REASONS + BONUS_REASONS,
        )
        .values("event_id", "event__category_id", "event__starts_at")
        .annotate(
            attended=Coalesce(Sum("points", filter=Q(reason__in=ATTENDANCE_REASONS)), 0),
            bonus=Coalesce(Sum("points", filter=Q(reason__in=BONUS_REASONS)), 0),
            bonus_generation=Coalesce(Max("generation", filter=Q(reason__in=BONUS_REASONS)), 0),
        )
        .order_by("event__category_id", "event__starts_at", "event_id")
    )
    entries = []
    for _, rows in groupby(per_event, key=itemgetter("event__category_id")):
        events = list(rows)
        holder = next((row for row in events if row["attended"] > 0), None)
        entries += [
            ScoreEntry(
                user_id=user_id,
                event_id=row["event_id"],
                reason=ScoreEntry.Reason.NEW_CATEGORY_REVERSED,
                points=-row["bonus"],
                generation=row["bonus_generation"],
            )
            for row in events
            if row["bonus"] > 0 and row is not holder
        ]
        if holder is not None and holder["bonus"] <= 0:
            entries.append(
                ScoreEntry(
                    user_id=user_id,
                    event_id=holder["event_id"],
                    reason=ScoreEntry.Reason.NEW_CATEGORY,
                    points=rules.NEW_CATEGORY_POINTS,
                    generation=holder["bonus_generation"] + 1,
                )
            )
    return ScoreEntry.objects.bulk_create(entries)


def score_attendance_reconcile() -> int:
    """Sync every registration whose check-in the ledger does not reflect; returns how many.

    Catches up check-ins whose task was never enqueued (e.g. Redis, the broker, was down at
    the time). The leaderboard refresh of those students is left to `leaderboard_reconcile`
    when Redis is still unreachable.
    """
    net = (
        ScoreEntry.objects.filter(
            user_id=OuterRef("user_id"),
            event_id=OuterRef("event_id"),
            reason__in=ATTENDANCE_REASONS,
        )
        .order_by()
        .values("event_id")
        .annotate(net=Sum("points"))
        .values("net")
    )
    credited = Coalesce(Subquery(net, output_field=IntegerField()), 0)
    checked_in = Q(checked_in_at__isnull=False, status=EventRegistration.Status.CONFIRMED)
    out_of_sync = list(
        EventRegistration.objects.annotate(credited=credited)
        .filter((checked_in & Q(credited__lte=0)) | (~checked_in & Q(credited__gt=0)))
        .order_by("user_id")
        .values_list("user_id", "event_id")
    )
    users = set()
    for user_id, rows in groupby(out_of_sync, key=itemgetter(0)):
        attendance_ledger_sync(user_id=user_id, event_ids=[event_id for _, event_id in rows])
        users.add(user_id)
    if out_of_sync:
        logger.warning("E-score attendance reconcile synced %s registrations", len(out_of_sync))
        try:
            leaderboard_refresh_users(user_ids=users)
        except RedisError:
            logger.warning("Leaderboard refresh failed; the leaderboard reconcile catches up")
    return len(out_of_sync)


# --- organizers -------------------------------------------------------------------------------


def score_organizer_award(*, event_id: int, now: dt.datetime | None = None) -> ScoreEntry | None:
    """Award the organizer of an event that took place, once, and refresh their totals."""
    entry = organizer_ledger_award(event_id=event_id, now=now or timezone.now())
    if entry is not None:
        leaderboard_refresh_user(user_id=entry.user_id)
    return entry


def organizer_ledger_award(*, event_id: int, now: dt.datetime) -> ScoreEntry | None:
    """The ledger entry for organizing the event, once; None when nothing is due.

    Due when the event is published and ended `rules.ORGANIZER_AWARD_AFTER` ago with at
    least `rules.ORGANIZED_MIN_ATTENDEES` checked-in attendees (the organizer not counted).
    """
    event = EventPost.objects.only("status", "ends_at", "organizer_id").get(pk=event_id)
    if (
        event.status != EventPost.Status.PUBLISHED
        or event.ends_at + rules.ORGANIZER_AWARD_AFTER > now
    ):
        return None
    with transaction.atomic():
        _user_lock(user_id=event.organizer_id)
        if ScoreEntry.objects.filter(
            user_id=event.organizer_id, event_id=event_id, reason=ScoreEntry.Reason.ORGANIZED
        ).exists():
            return None
        attendees = (
            EventRegistration.objects.filter(
                event_id=event_id,
                status=EventRegistration.Status.CONFIRMED,
                checked_in_at__isnull=False,
            )
            .exclude(user_id=event.organizer_id)
            .count()
        )
        points = rules.organizer_points(checked_in_attendees=attendees)
        if not points:
            return None
        return ScoreEntry.objects.create(
            user_id=event.organizer_id,
            event_id=event_id,
            reason=ScoreEntry.Reason.ORGANIZED,
            points=points,
            note=f"{attendees} checked in",
        )


def score_organizer_awards_due(*, now: dt.datetime | None = None) -> int:
    """The beat sweep: award every organizer whose event ended recently; returns how many."""
    now = now or timezone.now()
    awarded = sum(
        score_organizer_award(event_id=event_id, now=now) is not None
        for event_id in organizer_awards_due(now=now)
    )
    if awarded:
        logger.info("E-score organizer awards granted: %s", awarded)
    return awarded
