"""Writes for the E-score: ledger entries, then the leaderboard totals derived from them.

Entry points take ids, are idempotent and are meant to run from a Celery task (or an
on_commit hook), outside any transaction:

- `score_attendance_sync(registration_id=…)` makes the ledger match the registration's
  current check-in (award, or reverse with compensating entries), in either direction;
- `score_organizer_award(event_id=…)` and the sweep `score_organizer_awards_due()`;
- `leaderboard_refresh_user(user_id=…)`, `leaderboard_rebuild()`, `leaderboard_reconcile()`
  and `score_attendance_reconcile()`.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Exists, IntegerField, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis import RedisError

from core.clock import Term, term_current
from events.models import EventPost, EventRegistration
from users.models import User

from . import rules
from .leaderboard import SCOPE_ALL, Leaderboard
from .models import ScoreEntry

logger = logging.getLogger(__name__)

ATTENDANCE_REASONS = (ScoreEntry.Reason.ATTENDED, ScoreEntry.Reason.ATTENDED_REVERSED)
BONUS_REASONS = (ScoreEntry.Reason.NEW_CATEGORY, ScoreEntry.Reason.NEW_CATEGORY_REVERSED)
# Writes committed while a rebuild read the ledger are re-applied after its swap.
REBUILD_RACE_MARGIN = dt.timedelta(seconds=5)
# Past this many drifted students, the reconcile rebuilds the scope instead of patching it.
RECONCILE_REBUILD_THRESHOLD = 1000


# --- scopes: which entries count for which leaderboard ---------------------------------------


def leaderboard_scopes(*, now: dt.datetime | None = None) -> list[str]:
    """The scopes kept in Redis: all time and the current term."""
    return [SCOPE_ALL, term_current(now=now).key]


def term_entries_q(term: Term) -> Q:
    """Entries in a term: by their event's start, or by created_at when they have no event."""
    # An IN over the term's events (hashed once) rather than a join with an OR across two
    # tables, which PostgreSQL can only evaluate row by row.
    term_events = EventPost.objects.filter(
        starts_at__gte=term.starts_at, starts_at__lt=term.ends_at
    ).values("pk")
    return Q(event_id__in=term_events) | Q(
        event__isnull=True, created_at__gte=term.starts_at, created_at__lt=term.ends_at
    )


def scope_entries_q(scope: str) -> Q:
    if scope == SCOPE_ALL:
        return Q()
    year, season = scope.split("-")
    return term_entries_q(Term(season=season, year=int(year)))


LISTED_Q = Q(is_active=True) & ~Q(leaderboard_visibility=User.LeaderboardVisibility.HIDDEN)


def user_is_listed(user: User) -> bool:
    return user.is_active and user.leaderboard_visibility != User.LeaderboardVisibility.HIDDEN


def scope_totals(
    *, scope: str, user_ids: Iterable[int] | None = None
) -> Iterator[tuple[int, int, bool]]:
    """(user id, total, listed) for every student with entries in the scope: one aggregate."""
    entries = ScoreEntry.objects.filter(scope_entries_q(scope))
    if user_ids is not None:
        entries = entries.filter(user_id__in=list(user_ids))
    rows = (
        entries.values("user_id", "user__is_active", "user__leaderboard_visibility")
        .annotate(total=Sum("points"))
        .order_by()
        .values_list("user_id", "total", "user__is_active", "user__leaderboard_visibility")
    )
    for user_id, total, is_active, visibility in rows.iterator(chunk_size=10_000):
        yield user_id, total, is_active and visibility != User.LeaderboardVisibility.HIDDEN


# --- attendance -------------------------------------------------------------------------------


def _user_lock(*, user_id: int) -> None:
    """Serialise ledger writes for one student until the transaction ends.

    FOR NO KEY UPDATE does not block rows that merely reference the user (registrations,
    score entries), only other writers of the user row, for a few milliseconds.
    """
    list(User.objects.select_for_update(no_key=True).filter(pk=user_id).values_list("pk"))


def _entry(**fields) -> ScoreEntry:
    return ScoreEntry.objects.create(**fields)


def _attendance_ledger_sync(*, registration_id: int) -> tuple[int, list[ScoreEntry]]:
    """The ledger part of `score_attendance_sync`: returns (user id, entries created)."""
    with transaction.atomic():
        user_id = (
            EventRegistration.objects.filter(pk=registration_id)
            .values_list("user_id", flat=True)
            .first()
        )
        if user_id is None:
            # Deleted with its student or event: nothing left to score, and no retry helps.
            logger.info("E-score sync skipped: registration %s no longer exists", registration_id)
            return 0, []
        _user_lock(user_id=user_id)
        # Read after taking the lock: a check-in or undo committed meanwhile is seen.
        registration = (
            EventRegistration.objects.select_related("event")
            .only("checked_in_at", "status", "user_id", "event__category_id")
            .get(pk=registration_id)
        )
        checked_in = (
            registration.checked_in_at is not None
            and registration.status == EventRegistration.Status.CONFIRMED
        )
        event = registration.event
        created = _attended_sync(user_id=user_id, event_id=event.pk, checked_in=checked_in)
        created += _breadth_bonus_sync(user_id=user_id, category_id=event.category_id)
    return user_id, created


def score_attendance_sync(*, registration_id: int) -> list[ScoreEntry]:
    """Make the ledger match the registration's check-in now, then refresh the leaderboards.

    Checked in and not (or no longer) credited: `attended` +10 (a new generation after an
    undo). Not checked in but credited: `attended_reversed` for exactly what was granted.
    The category bonus is then moved to where the rules say it belongs. Running it again,
    in any order with other syncs, adds nothing. Returns the entries created.
    """
    user_id, created = _attendance_ledger_sync(registration_id=registration_id)
    if not user_id:
        return []
    if created:
        logger.info(
            "E-score for user %s after registration %s: %s",
            user_id,
            registration_id,
            ", ".join(f"{entry.reason} {entry.points:+d}" for entry in created),
        )
    leaderboard_refresh_user(user_id=user_id)
    return created


def _attended_sync(*, user_id: int, event_id: int, checked_in: bool) -> list[ScoreEntry]:
    state = ScoreEntry.objects.filter(
        user_id=user_id, event_id=event_id, reason__in=ATTENDANCE_REASONS
    ).aggregate(net=Coalesce(Sum("points"), 0), generation=Coalesce(Max("generation"), 0))
    if checked_in and state["net"] <= 0:
        return [
            _entry(
                user_id=user_id,
                event_id=event_id,
                reason=ScoreEntry.Reason.ATTENDED,
                points=rules.ATTENDED_POINTS,
                generation=state["generation"] + 1,
            )
        ]
    if not checked_in and state["net"] > 0:
        return [
            _entry(
                user_id=user_id,
                event_id=event_id,
                reason=ScoreEntry.Reason.ATTENDED_REVERSED,
                points=-state["net"],
                generation=state["generation"],
            )
        ]
    return []


def _breadth_bonus_sync(*, user_id: int, category_id: int) -> list[ScoreEntry]:
    """Put the category bonus on the earliest-starting event with attendance points."""
    per_event = list(
        ScoreEntry.objects.filter(
            user_id=user_id,
            event__category_id=category_id,
            reason__in=ATTENDANCE_REASONS + BONUS_REASONS,
        )
        .values("event_id", "event__starts_at")
        .annotate(
            attended=Coalesce(Sum("points", filter=Q(reason__in=ATTENDANCE_REASONS)), 0),
            bonus=Coalesce(Sum("points", filter=Q(reason__in=BONUS_REASONS)), 0),
            bonus_generation=Coalesce(Max("generation", filter=Q(reason__in=BONUS_REASONS)), 0),
        )
        .order_by("event__starts_at", "event_id")
    )
    holder = next((row for row in per_event if row["attended"] > 0), None)
    created = []
    for row in per_event:
        if row["bonus"] > 0 and row is not holder:
            created.append(
                _entry(
                    user_id=user_id,
                    event_id=row["event_id"],
                    reason=ScoreEntry.Reason.NEW_CATEGORY_REVERSED,
                    points=-row["bonus"],
                    generation=row["bonus_generation"],
                )
            )
    if holder is not None and holder["bonus"] <= 0:
        created.append(
            _entry(
                user_id=user_id,
                event_id=holder["event_id"],
                reason=ScoreEntry.Reason.NEW_CATEGORY,
                points=rules.NEW_CATEGORY_POINTS,
                generation=holder["bonus_generation"] + 1,
            )
        )
    return created


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
        .values_list("pk", flat=True)
    )
    users = set()
    for registration_id in out_of_sync:
        user_id, _ = _attendance_ledger_sync(registration_id=registration_id)
        if user_id:
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
    """Award the organizer of an event that took place, once; None when nothing is due.

    Due when the event is published and ended `rules.ORGANIZER_AWARD_AFTER` ago with at
    least `rules.ORGANIZED_MIN_ATTENDEES` checked-in attendees (the organizer not counted).
    """
    now = now or timezone.now()
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
        entry = _entry(
            user_id=event.organizer_id,
            event_id=event_id,
            reason=ScoreEntry.Reason.ORGANIZED,
            points=points,
            note=f"{attendees} checked in",
        )
    leaderboard_refresh_user(user_id=event.organizer_id)
    return entry


def organizer_awards_due(*, now: dt.datetime) -> list[int]:
    """Ids of events whose organizer award is due and not yet granted."""
    return list(
        EventPost.objects.filter(
            status=EventPost.Status.PUBLISHED,
            ends_at__lte=now - rules.ORGANIZER_AWARD_AFTER,
            ends_at__gt=now - rules.ORGANIZER_AWARD_LOOKBACK,
        )
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
                ),
            )
        )
        .filter(attendees__gte=rules.ORGANIZED_MIN_ATTENDEES)
        .values_list("pk", flat=True)
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


# --- leaderboards -----------------------------------------------------------------------------


def leaderboard_refresh_users(*, user_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    """Write these students' absolute totals, recomputed from the ledger, to every scope.

    A student with no entries in a scope is removed from it. A scope that is not built (new
    term, fresh or evicted Redis) is rebuilt whole instead. Raises `redis.RedisError`.
    """
    user_ids = set(user_ids)
    if not user_ids:
        return
    # A visibility, pseudonym or name change is followed by a refresh: show the new name.
    Leaderboard.for_scope(SCOPE_ALL).names_forget(user_ids)
    for scope in leaderboard_scopes(now=now):
        rows = {
            user_id: (total, listed)
            for user_id, total, listed in scope_totals(scope=scope, user_ids=user_ids)
        }
        totals = [(user_id, *rows.get(user_id, (None, False))) for user_id in sorted(user_ids)]
        board = Leaderboard.for_scope(scope)
        if not board.set_totals(totals) and board.rebuild_claim():
            leaderboard_rebuild(scopes=[scope])


def leaderboard_refresh_user(*, user_id: int, now: dt.datetime | None = None) -> None:
    """After a score or visibility change: store the student's recomputed totals (ZADD)."""
    leaderboard_refresh_users(user_ids=[user_id], now=now)


def leaderboard_rebuild(
    *,
    scopes: Iterable[str] | None = None,
    progress: Callable[[str, int], Callable[[int], object]] | None = None,
) -> dict[str, int]:
    """Rebuild scopes from the ledger (one aggregate each) and swap them in atomically.

    `progress(scope, total)` may return a callback fed with the number of students stored
    per chunk (the command's progress bar). Returns {scope: students stored}.
    """
    started = timezone.now()
    stored = {}
    for scope in scopes or leaderboard_scopes():
        callback = None
        if progress:
            students = ScoreEntry.objects.filter(scope_entries_q(scope)).aggregate(
                n=Count("user_id", distinct=True)
            )["n"]
            callback = progress(scope, students)
        stored[scope] = Leaderboard.for_scope(scope).replace(
            scope_totals(scope=scope), progress=callback
        )
        # A refresh that ran between this scope's read and its swap was overwritten: re-apply
        # the totals of everyone whose ledger changed since the rebuild began.
        recent = set(
            ScoreEntry.objects.filter(created_at__gte=started - REBUILD_RACE_MARGIN)
            .values_list("user_id", flat=True)
            .distinct()
        )
        if recent:
            totals = {
                user_id: (total, listed)
                for user_id, total, listed in scope_totals(scope=scope, user_ids=recent)
            }
            Leaderboard.for_scope(scope).set_totals(
                (user_id, *totals.get(user_id, (None, False))) for user_id in sorted(recent)
            )
    logger.info("Leaderboards rebuilt: %s", stored)
    return stored


@dataclass
class ReconcileReport:
    scope: str
    students: int = 0  # students with entries in the scope, per the ledger
    missing: int = 0  # in the ledger, not in Redis
    extra: int = 0  # in Redis, not in the ledger
    wrong_total: int = 0
    wrong_listing: int = 0  # listed though hidden, or the other way round
    rebuilt: bool = False
    repaired: set[int] = field(default_factory=set, repr=False)

    @property
    def drift(self) -> int:
        return len(self.repaired)


def leaderboard_reconcile(*, now: dt.datetime | None = None) -> list[ReconcileReport]:
    """Compare every scope's sorted sets with the ledger, log the drift and repair it.

    Drifted students are refreshed one by one from a fresh read of the ledger (so a score
    change racing the comparison is not overwritten with the stale total); a scope that is
    missing, or drifted past `RECONCILE_REBUILD_THRESHOLD`, is rebuilt.
    """
    reports = []
    for scope in leaderboard_scopes(now=now):
        report = ReconcileReport(scope=scope)
        board = Leaderboard.for_scope(scope)
        snapshot = board.snapshot()
        ledger = {user_id: (total, listed) for user_id, total, listed in scope_totals(scope=scope)}
        report.students = len(ledger)
        if snapshot is None:
            leaderboard_rebuild(scopes=[scope])
            report.rebuilt = True
            report.missing = len(ledger)
            reports.append(report)
            logger.warning("Leaderboard %s was not built; rebuilt from the ledger", scope)
            continue
        stored, listed_ids = snapshot
        for user_id, (total, listed) in ledger.items():
            if user_id not in stored:
                report.missing += 1
            elif stored[user_id] != total:
                report.wrong_total += 1
            elif (user_id in listed_ids) != listed:
                report.wrong_listing += 1
            else:
                continue
            report.repaired.add(user_id)
        strays = (stored.keys() | listed_ids) - ledger.keys()
        report.extra = len(strays)
        report.repaired |= strays
        if report.drift > RECONCILE_REBUILD_THRESHOLD:
            leaderboard_rebuild(scopes=[scope])
            report.rebuilt = True
        elif report.repaired:
            leaderboard_refresh_users(user_ids=report.repaired, now=now)
        board.touch()
        log = logger.warning if report.drift else logger.info
        log(
            "Leaderboard reconcile %s: %s students, %s missing, %s extra, %s wrong total, "
            "%s wrong listing%s",
            scope,
            report.students,
            report.missing,
            report.extra,
            report.wrong_total,
            report.wrong_listing,
            ", rebuilt" if report.rebuilt else "",
        )
        reports.append(report)
    return reports
