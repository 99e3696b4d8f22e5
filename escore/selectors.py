"""Reads for the E-score: which entries count for which leaderboard, the leaderboard (Redis,
or the database when Redis is down), a student's own score with every entry behind it, and
the organizer awards that are due. Services import these; nothing here imports a service."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Window
from django.db.models.functions import Rank
from django.utils import timezone
from redis import RedisError

from core.clock import Term, local_date, term_current, term_of
from events.models import EventPost, EventRegistration
from users.models import User

from . import rules
from .leaderboard import SCOPE_ALL, Leaderboard, OwnStanding, own_standing
from .models import ScoreDispute, ScoreEntry

logger = logging.getLogger(__name__)


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


def organizer_awards_due(
    *, now: dt.datetime, lookback: dt.timedelta | None = rules.ORGANIZER_AWARD_LOOKBACK
) -> list[int]:
    """Ids of events whose organizer award is due and not yet granted.

    Events that ended more than `lookback` ago are left out (None: however long ago).
    """
    took_place = EventPost.objects.filter(
        status=EventPost.Status.PUBLISHED, ends_at__lte=now - rules.ORGANIZER_AWARD_AFTER
    )
    if lookback is not None:
        took_place = took_place.filter(ends_at__gt=now - lookback)
    return list(
        took_place.filter(
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


SCOPES = ("current", "all")
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    name: str
    score: int
    is_me: bool


@dataclass(frozen=True)
class LeaderboardView:
    scope: str  # "current" or "all"
    term: Term | None  # the current term, for scope "current"
    rows: list[LeaderboardRow]
    me: OwnStanding | None
    listed_count: int
    # Read from the database because Redis could not be reached: totals are exact but the
    # page is slower, and the notice says the leaderboard may be delayed.
    delayed: bool

    @property
    def rows_cache_key(self) -> str:
        """What the rendered rows vary on: the scope, and the viewer only when among them.

        Everyone outside the top rows sees the same list, so they share one rendering
        (escore/leaderboard.html, LEADERBOARD_CACHE_SECONDS); a listed viewer's row is marked.
        """
        # The viewer's place in the list, not their rank: tied students share a rank.
        me = next((index for index, row in enumerate(self.rows, 1) if row.is_me), 0)
        term = self.term.key if self.term else "all"
        return f"{term}:{me}:{len(self.rows)}"


def leaderboard_get(
    *,
    scope: str,
    user: User | AnonymousUser | None,
    limit: int = DEFAULT_LIMIT,
    now: dt.datetime | None = None,
) -> LeaderboardView:
    """Top `limit` listed students and the viewer's own standing, hidden or not."""
    term = term_current(now=now) if scope == "current" else None
    board_scope = term.key if term else SCOPE_ALL
    user_id = user.pk if user is not None and user.is_authenticated else None
    delayed = False
    try:
        result = Leaderboard.for_scope(board_scope).top_and_standing(limit=limit, user_id=user_id)
    except RedisError:
        logger.warning("Redis unreachable: leaderboard %s read from the database", board_scope)
        result, delayed = None, True
    if result is None:
        top, me, listed_count = _leaderboard_from_database(
            scope=board_scope, limit=limit, user_id=user_id
        )
    else:
        standings, me, listed_count = result
        missing = [standing.user_id for standing in standings if standing.name is None]
        names = _names_from_database(user_ids=missing)
        if names:
            try:
                Leaderboard.for_scope(board_scope).names_store(names)
            except RedisError:
                logger.warning("Could not cache leaderboard names")
        top = [
            LeaderboardRow(
                rank=standing.rank,
                name=standing.name
                if standing.name is not None
                else names.get(standing.user_id, ""),
                score=standing.score,
                is_me=standing.user_id == user_id,
            )
            for standing in standings
        ]
    return LeaderboardView(
        scope=scope, term=term, rows=top, me=me, listed_count=listed_count, delayed=delayed
    )


def _names_from_database(*, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    users = User.objects.filter(pk__in=user_ids).only(
        "email", "display_name", "leaderboard_visibility", "pseudonym"
    )
    return {user.pk: user.leaderboard_name or "" for user in users}


def _leaderboard_from_database(
    *, scope: str, limit: int, user_id: int | None
) -> tuple[list[LeaderboardRow], OwnStanding | None, int]:
    """The same answer as Redis gives, from the ledger: a few aggregate queries."""
    in_scope = ScoreEntry.objects.filter(scope_entries_q(scope))
    listed_totals = (
        in_scope.filter(user__in=User.objects.filter(LISTED_Q))
        .values("user_id")
        .annotate(total=Sum("points"))
        .order_by()
    )
    ranked = (
        listed_totals.annotate(rank=Window(Rank(), order_by=F("total").desc()))
        .order_by("-total", "user_id")
        .values_list("user_id", "total", "rank")[:limit]
    )
    rows = list(ranked)
    names = _names_from_database(user_ids=[row[0] for row in rows])
    top = [
        LeaderboardRow(rank=rank, name=names.get(uid, "?"), score=total, is_me=uid == user_id)
        for uid, total, rank in rows
    ]
    listed_count = listed_totals.count()
    me = None
    if user_id is not None:
        own = in_scope.filter(user_id=user_id).aggregate(total=Sum("points"))["total"]
        if own is not None:
            user = User.objects.only("is_active", "leaderboard_visibility").get(pk=user_id)
            me = own_standing(
                score=own,
                above=listed_totals.filter(total__gt=own).count(),
                below=listed_totals.filter(total__lt=own).count(),
                listed_count=listed_count,
                listed=user_is_listed(user),
            )
    return top, me, listed_count


@dataclass(frozen=True)
class EscoreSummary:
    total: int
    term: Term
    term_total: int
    entries: list[ScoreEntry]  # newest first, each with `.term` set


def escore_summary(*, user: User, now: dt.datetime | None = None) -> EscoreSummary:
    """A student's total, current-term total and every ledger entry: one query."""
    term = term_current(now=now)
    entries = list(
        ScoreEntry.objects.filter(user=user)
        .select_related("event__category")
        .only(
            "points",
            "reason",
            "note",
            "created_at",
            "generation",
            "event__title",
            "event__starts_at",
            "event__category__name",
        )
        .order_by("-created_at", "-pk")
    )
    term_total = 0
    for entry in entries:
        entry_term = term_of(entry.event.starts_at if entry.event else entry.created_at)
        entry.term = entry_term  # type: ignore[attr-defined]
        term_total += entry.points if entry_term == term else 0
    return EscoreSummary(
        total=sum(entry.points for entry in entries),
        term=term,
        term_total=term_total,
        entries=entries,
    )


# --- disputes -------------------------------------------------------------------------------


def disputes_of(*, user: User) -> list[ScoreDispute]:
    """The student's disputes, newest first, with their decisions."""
    return list(
        ScoreDispute.objects.filter(user=user)
        .select_related("event", "decided_by")
        .order_by("-created_at", "-pk")[:50]
    )


def dispute_candidates(*, user: User, now: dt.datetime | None = None) -> list[EventPost]:
    """Events the student may dispute: held a seat (or lost it to the no-show release), the
    event started, is not cancelled, ended at most WINDOW_DAYS ago, no check-in, and no open
    dispute. The form offers these; `dispute_create` checks any event it is given."""
    now = now or timezone.now()
    open_dispute = ScoreDispute.objects.filter(
        user=user, event=OuterRef("pk"), status=ScoreDispute.Status.PENDING
    )
    seat = EventRegistration.objects.filter(event=OuterRef("pk"), user=user, checked_in_at=None)
    held = seat.filter(
        Q(status=EventRegistration.Status.CONFIRMED)
        | Q(status=EventRegistration.Status.CANCELLED, released_at__isnull=False)
    )
    return list(
        EventPost.objects.filter(
            status=EventPost.Status.PUBLISHED,
            starts_at__lte=now,
            ends_at__gte=now - dt.timedelta(days=ScoreDispute.WINDOW_DAYS),
        )
        .exclude(organizer=user)
        .filter(Exists(held))
        .exclude(Exists(open_dispute))
        .order_by("-starts_at")[:50]
    )


def disputes_pending_for(*, user: User) -> list[ScoreDispute]:
    """Open disputes the user may decide: staff all of them; organizers and officers those of
    the events they may check students in to (events.permissions decides each)."""
    from events import permissions

    pending = (
        ScoreDispute.objects.filter(status=ScoreDispute.Status.PENDING)
        .select_related("event", "event__organization", "user", "entry")
        .order_by("created_at", "pk")
    )
    if permissions.user_is_staff(user):
        return list(pending[:200])
    if not (user.is_authenticated and user.is_active):
        return []
    officer_of = user.officer_roles.values("organization_id")
    mine = pending.filter(
        Q(event__organizer=user, event__organization__isnull=True)
        | Q(event__organization__in=officer_of)
        | Q(event__cohosts__in=officer_of)
    ).distinct()
    return [
        dispute
        for dispute in mine[:200]
        if permissions.user_can(user, permissions.Action.CHECK_IN, dispute.event)
    ]


@dataclass(frozen=True)
class EscorePictures:
    """My E-score's charts, from the entries already read: no query of their own."""

    term_by_week: list[tuple[dt.date, int]]  # running total of the term at each week's end
    by_category: list[tuple[str, int]]  # points from each category's events, most first


def escore_pictures(summary: EscoreSummary, *, now: dt.datetime | None = None) -> EscorePictures:
    now = now or dt.datetime.now(tz=dt.UTC)
    term = summary.term
    in_term = sorted(
        (entry.event.starts_at if entry.event else entry.created_at, entry.points)
        for entry in summary.entries
        if entry.term == term  # type: ignore[attr-defined]
    )
    week_ends = []
    moment = term.starts_at + dt.timedelta(days=7)
    while moment < min(now, term.ends_at):
        week_ends.append(moment)
        moment += dt.timedelta(days=7)
    week_ends.append(min(now, term.ends_at))
    running, index, term_by_week = 0, 0, []
    for week_end in week_ends:
        while index < len(in_term) and in_term[index][0] < week_end:
            running += in_term[index][1]
            index += 1
        term_by_week.append((local_date(week_end - dt.timedelta(microseconds=1)), running))
    by_category: dict[str, int] = {}
    for entry in summary.entries:
        if entry.event is not None:
            name = entry.event.category.name
            by_category[name] = by_category.get(name, 0) + entry.points
    return EscorePictures(
        term_by_week=term_by_week,
        by_category=sorted(
            ((name, points) for name, points in by_category.items() if points > 0),
            key=lambda item: (-item[1], item[0]),
        ),
    )
