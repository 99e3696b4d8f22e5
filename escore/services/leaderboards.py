"""Writes to the Redis leaderboards: absolute totals recomputed from the ledger.

A score or visibility change refreshes the student's totals (ZADD), a rebuild swaps whole
scopes in atomically, and the reconcile compares every scope with the ledger and repairs
the drift. `escore.leaderboard` is the only module that knows the sorted sets' keys.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from escore.leaderboard import SCOPE_ALL, Leaderboard
from escore.models import ScoreEntry
from escore.selectors import leaderboard_scopes, scope_entries_q, scope_totals

logger = logging.getLogger(__name__)

# Writes committed while a rebuild read the ledger are re-applied after its swap.
REBUILD_RACE_MARGIN = dt.timedelta(seconds=5)
# Past this many drifted students, the reconcile rebuilds the scope instead of patching it.
RECONCILE_REBUILD_THRESHOLD = 1000


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
