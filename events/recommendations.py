"""Explained recommendations: the home page's "For you" and /api/v1/me/recommendations.

Upcoming events are ranked for one student from what they attended, registered for and
follow (categories, organizations, places, times of day), from what students like them
registered for lately (students who shared an event with them, or follow what they follow),
and from what is popular this week; a pick in a category the student has not attended yet
gets a novelty bonus, and picks are spread over categories so the list is not only more of
the same. Each pick says why in one line.

The ranker (`rank`) is plain Python over facts loaded by `history_load` and
`candidates_load`; both take `as_of`, so bench/recommendation_eval.py ranks as of a past
moment from only what was known then. A student's "not interested" (RecommendationDismissal)
removes the event and counts against its category and organization.

Cost: `recommendations_for` runs RECOMMENDATION_QUERIES queries when it computes, and its
answer (event ids and reasons) is cached per student for CACHE_SECONDS; reading a cached
answer is one query (the events, minus those registered for since).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Min, Q, Value
from django.utils import timezone

from core import clock
from escore import rules
from orgs.models import CategoryFollow, Membership, OrganizationFollow

from . import permissions
from .access import features_ordered
from .models import EventPost, EventRegistration, RecommendationDismissal

PICKS = 10
# Upcoming events considered: the soonest this many within the horizon.
CANDIDATE_LIMIT = 2000
HORIZON = dt.timedelta(days=60)
# Popularity is registrations per day since the first one, counting this many extra days.
VELOCITY_GRACE_DAYS = 1.0
CACHE_SECONDS = 600
# The student's registrations, hidden events, follows, e-mail verification (what they may
# see), the candidates, their registration counts and the peers' counts.
RECOMMENDATION_QUERIES = 7

# Weights of the signals (the bench in docs/BENCHMARKS.md measured them on the demo data).
ATTENDED_WEIGHT = 3.0
REGISTERED_WEIGHT = 1.5
FOLLOWED_CATEGORY_WEIGHT = 4.0
FOLLOWED_ORGANIZATION_WEIGHT = 5.0
HIDDEN_WEIGHT = -4.0
CATEGORY_SCORE = 2.0
ORGANIZATION_SCORE = 1.2
PLACE_SCORE = 0.4
TIME_OF_DAY_SCORE = 0.3
PEERS_SCORE = 0.9
TRENDING_SCORE = 1.0
SOON_SCORE = 0.3
NOVELTY_SCORE = 0.35
ACCESS_NEEDS_SCORE = 0.5
# Each earlier pick of the same category lowers the next one's score by this much.
REPEAT_CATEGORY_PENALTY = 0.25
# At least this many picks are categories new to a student with a history, when any exist.
NOVEL_PICKS_MIN = 2


def cache_key(user_id: int) -> str:
    return f"events:recommendations:{user_id}"


@dataclass(frozen=True, kw_only=True)
class EventFacts:
    """What the ranker knows of one event."""

    id: int
    title: str
    category_id: int
    category_name: str
    organization_id: int | None
    organization_name: str
    location_name: str
    starts_at: dt.datetime
    access_features: tuple[str, ...] = ()


@dataclass(kw_only=True)
class History:
    """One student's signals as of a moment."""

    attended: list[EventFacts] = field(default_factory=list)
    registered: list[EventFacts] = field(default_factory=list)
    hidden: list[EventFacts] = field(default_factory=list)
    # Every event the student registered for (any status) or hid: never picked.
    excluded_event_ids: set[int] = field(default_factory=set)
    followed_organizations: dict[int, str] = field(default_factory=dict)
    followed_categories: dict[int, str] = field(default_factory=dict)
    access_needs: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (
            self.attended
            or self.registered
            or self.followed_organizations
            or self.followed_categories
        )

    @property
    def attended_category_ids(self) -> set[int]:
        """Categories in which the student holds attendance points: the breadth bonus's test."""
        return {event.category_id for event in self.attended}


@dataclass(frozen=True, kw_only=True)
class Candidate:
    event: EventFacts
    # Registrations so far, how fast they came (per day since the first, smoothed), and
    # those of students like this one.
    registrations: int = 0
    registrations_per_day: float = 0.0
    peer_registrations: int = 0


@dataclass(frozen=True, kw_only=True)
class Pick:
    event_id: int
    score: float
    reason: str
    kind: str
    meets_access_needs: bool = False


def time_of_day(moment: dt.datetime) -> str:
    hour = clock.local(moment).hour
    if hour < 12:
        return "morning"
    if hour < 17:
        return "afternoon"
    return "evening"


def _shares(weights: dict) -> dict:
    """Each key's part of all the weight, in [-1, 1] (hidden events weigh against)."""
    total = sum(abs(weight) for weight in weights.values())
    if not total:
        return {}
    return {key: max(-1.0, min(1.0, weight / total)) for key, weight in weights.items()}


def _scaled(count: float, largest: float) -> float:
    return math.log1p(count) / math.log1p(largest) if largest else 0.0


def rank(
    *, history: History, candidates: Iterable[Candidate], now: dt.datetime, limit: int = PICKS
) -> list[Pick]:
    """The student's best `limit` picks, each with its one-line reason."""
    candidates = [c for c in candidates if c.event.id not in history.excluded_event_ids]
    if not candidates:
        return []
    categories: defaultdict[int, float] = defaultdict(float)
    organizations: defaultdict[int, float] = defaultdict(float)
    places: defaultdict[str, float] = defaultdict(float)
    times: defaultdict[str, float] = defaultdict(float)
    # The event each category / organization was last seen at, for "because you went to".
    because: dict[tuple[str, int], tuple[str, EventFacts]] = {}
    for weight, verb, events in (
        (REGISTERED_WEIGHT, "registered for", history.registered),
        (ATTENDED_WEIGHT, "went to", history.attended),
    ):
        for event in sorted(events, key=lambda e: e.starts_at):
            categories[event.category_id] += weight
            places[event.location_name] += weight
            times[time_of_day(event.starts_at)] += weight
            because[("category", event.category_id)] = (verb, event)
            if event.organization_id:
                organizations[event.organization_id] += weight
                because[("organization", event.organization_id)] = (verb, event)
    for category_id in history.followed_categories:
        categories[category_id] += FOLLOWED_CATEGORY_WEIGHT
    for organization_id in history.followed_organizations:
        organizations[organization_id] += FOLLOWED_ORGANIZATION_WEIGHT
    for event in history.hidden:
        categories[event.category_id] += HIDDEN_WEIGHT
        if event.organization_id:
            organizations[event.organization_id] += HIDDEN_WEIGHT

    category_shares, organization_shares = _shares(categories), _shares(organizations)
    place_shares, time_shares = _shares(places), _shares(times)
    attended_categories = history.attended_category_ids
    fastest = max(c.registrations_per_day for c in candidates)
    most_peers = max(c.peer_registrations for c in candidates)
    needs = set(history.access_needs)
    has_history = bool(history.attended or history.registered)
    scored: list[tuple[float, Candidate, dict[str, float]]] = []
    for candidate in candidates:
        event = candidate.event
        days_away = max((event.starts_at - now).total_seconds() / 86400, 0.0)
        parts = {
            "category": CATEGORY_SCORE * category_shares.get(event.category_id, 0.0),
            "organization": ORGANIZATION_SCORE
            * organization_shares.get(event.organization_id, 0.0),
            "place": PLACE_SCORE * place_shares.get(event.location_name, 0.0),
            "time": TIME_OF_DAY_SCORE * time_shares.get(time_of_day(event.starts_at), 0.0),
            "peers": PEERS_SCORE * _scaled(candidate.peer_registrations, most_peers),
            "trending": TRENDING_SCORE * _scaled(candidate.registrations_per_day, fastest),
            "soon": SOON_SCORE * max(0.0, 1 - days_away / HORIZON.days),
            "novelty": NOVELTY_SCORE
            if has_history and event.category_id not in attended_categories
            else 0.0,
            "access": ACCESS_NEEDS_SCORE if needs and needs <= set(event.access_features) else 0.0,
        }
        scored.append((sum(parts.values()), candidate, parts))
    scored.sort(key=lambda item: (-item[0], item[1].event.starts_at, item[1].event.id))

    picked: list[tuple[float, Candidate, dict[str, float]]] = []
    per_category: Counter = Counter()
    pool = scored[: limit * 20]
    while pool and len(picked) < limit:
        best_index = max(
            range(len(pool)),
            key=lambda i: (
                pool[i][0] - REPEAT_CATEGORY_PENALTY * per_category[pool[i][1].event.category_id],
                -i,
            ),
        )
        item = pool.pop(best_index)
        picked.append(item)
        per_category[item[1].event.category_id] += 1
    if has_history:
        picked = _with_novel_picks(picked, pool, attended_categories)
    return [
        Pick(
            event_id=candidate.event.id,
            score=round(score, 4),
            meets_access_needs=bool(needs) and needs <= set(candidate.event.access_features),
            **_reason(
                candidate=candidate,
                parts=parts,
                history=history,
                because=because,
                attended_categories=attended_categories,
            ),
        )
        for score, candidate, parts in picked
    ]


def _with_novel_picks(picked: list, pool: list, attended_categories: set[int]) -> list:
    """Swap the lowest picks for the best ones in new categories until NOVEL_PICKS_MIN."""

    def is_novel(item) -> bool:
        return item[1].event.category_id not in attended_categories

    novel_count = sum(1 for item in picked if is_novel(item))
    spare = [item for item in pool if is_novel(item)]
    picked = list(picked)
    for replacement in spare:
        if novel_count >= NOVEL_PICKS_MIN:
            break
        for position in range(len(picked) - 1, -1, -1):
            if not is_novel(picked[position]):
                picked[position] = replacement
                novel_count += 1
                break
        else:
            break
    return picked


def _reason(
    *,
    candidate: Candidate,
    parts: dict[str, float],
    history: History,
    because: dict[tuple[str, int], tuple[str, EventFacts]],
    attended_categories: set[int],
) -> dict[str, str]:
    event = candidate.event
    # What the student did or chose explains a pick first; where and when only as a tie-break.
    strongest = max(("organization", "category", "novelty", "peers"), key=lambda n: parts[n])
    if parts[strongest] <= 0:
        strongest = max(("place", "time"), key=lambda name: parts[name])
    if parts[strongest] <= 0:
        if candidate.registrations:
            return {
                "kind": "popular",
                "reason": f"Popular on campus: {candidate.registrations} registered so far",
            }
        return {"kind": "soon", "reason": "Coming up soon"}
    if strongest == "organization":
        if event.organization_id in history.followed_organizations:
            return {
                "kind": "follow",
                "reason": f"From {event.organization_name}, which you follow",
            }
        verb, seen = because[("organization", event.organization_id)]  # type: ignore[index]
        return {"kind": "history", "reason": f"Because you {verb} {seen.title}"}
    if strongest == "category":
        if ("category", event.category_id) in because:
            verb, seen = because[("category", event.category_id)]
            return {"kind": "history", "reason": f"Because you {verb} {seen.title}"}
        return {"kind": "follow", "reason": f"In {event.category_name}, which you follow"}
    if strongest == "novelty" and event.category_id not in attended_categories:
        return {
            "kind": "new_category",
            "reason": f"New category for you: +{rules.NEW_CATEGORY_POINTS} breadth bonus "
            f"({event.category_name})",
        }
    if strongest == "peers":
        return {"kind": "peers", "reason": "Popular with students like you"}
    if strongest == "place":
        return {"kind": "place", "reason": f"At {event.location_name}, where you often go"}
    return {
        "kind": "time",
        "reason": f"In the {time_of_day(event.starts_at)}, when you usually go",
    }


# --- Loading the facts -------------------------------------------------------------------

_FACT_FIELDS = {
    "id": "id",
    "title": "title",
    "category_id": "category_id",
    "category_name": "category__name",
    "organization_id": "organization_id",
    "organization_name": "organization__name",
    "location_name": "location_name",
    "starts_at": "starts_at",
    "access_features": "access_features",
}


def _facts(row: dict, prefix: str = "") -> EventFacts:
    values = {name: row[prefix + path] for name, path in _FACT_FIELDS.items()}
    values["organization_name"] = values["organization_name"] or ""
    values["access_features"] = tuple(values["access_features"] or ())
    return EventFacts(**values)


def history_load(*, user, as_of: dt.datetime | None = None) -> History:
    """The student's signals as of `as_of` (default now): three queries.

    As of a past moment, only what existed then counts: registrations made before it (and
    cancellations and check-ins that had happened), follows and "not interested" made before.
    """
    registration_fields = ["status", "checked_in_at", "cancelled_at", "registered_at"]
    event_paths = [f"event__{path}" for path in _FACT_FIELDS.values()]
    registrations = EventRegistration.objects.filter(user=user)
    if as_of is not None:
        registrations = registrations.filter(registered_at__lt=as_of)
    history = History(access_needs=tuple(getattr(user, "access_needs", ()) or ()))
    for row in registrations.values(*registration_fields, *event_paths):
        facts = _facts(row, prefix="event__")
        history.excluded_event_ids.add(facts.id)
        checked_in = row["checked_in_at"] is not None and (
            as_of is None or row["checked_in_at"] < as_of
        )
        cancelled = row["status"] == EventRegistration.Status.CANCELLED and (
            as_of is None or row["cancelled_at"] < as_of
        )
        if checked_in:
            history.attended.append(facts)
        elif not cancelled:
            history.registered.append(facts)
    dismissals = RecommendationDismissal.objects.filter(user=user)
    organization_follows = OrganizationFollow.objects.filter(user=user)
    category_follows = CategoryFollow.objects.filter(user=user)
    if as_of is not None:
        dismissals = dismissals.filter(created_at__lt=as_of)
        organization_follows = organization_follows.filter(created_at__lt=as_of)
        category_follows = category_follows.filter(created_at__lt=as_of)
    for row in dismissals.values(*event_paths):
        facts = _facts(row, prefix="event__")
        history.hidden.append(facts)
        history.excluded_event_ids.add(facts.id)
    # Both kinds of follow in one round trip.
    organizations = organization_follows.values_list(
        Value("organization"), "organization_id", "organization__name"
    )
    categories = category_follows.values_list(Value("category"), "category_id", "category__name")
    for kind, target_id, name in organizations.union(categories, all=True):
        if kind == "organization":
            history.followed_organizations[target_id] = name
        else:
            history.followed_categories[target_id] = name
    return history


def candidates_load(
    *, user, history: History, as_of: dt.datetime | None = None, limit: int = CANDIDATE_LIMIT
) -> list[Candidate]:
    """Upcoming events the student may see, with their popularity: three queries.

    As of a past moment: events starting after it (published or since ended, not
    cancelled), counted from the registrations made before it.
    """
    now = as_of or timezone.now()
    events = EventPost.objects.filter(
        status=EventPost.Status.PUBLISHED, starts_at__gt=now, starts_at__lte=now + HORIZON
    )
    if as_of is None:
        member_of = Membership.objects.filter(user=user, status=Membership.Status.APPROVED).values(
            "organization_id"
        )
        events = events.filter(
            Q(visibility__in=permissions.listable_visibilities(user))
            | Q(visibility=EventPost.Visibility.MEMBERS, organization__in=member_of)
        ).exclude(organizer=user)
    rows = list(events.order_by("starts_at", "pk").values(*_FACT_FIELDS.values())[:limit])
    facts = [_facts(row) for row in rows if row["id"] not in history.excluded_event_ids]
    event_ids = [event.id for event in facts]
    if not event_ids:
        return []
    demand = {
        event_id: (count, first)
        for event_id, count, first in EventRegistration.objects.filter(
            event_id__in=event_ids, registered_at__lt=now
        )
        .values_list("event_id")
        .annotate(n=Count("id"), first=Min("registered_at"))
        .order_by()
        .values_list("event_id", "n", "first")
    }
    peers = dict(_peer_registrations(user=user, event_ids=event_ids, history=history, now=now))
    return [
        Candidate(
            event=event,
            registrations=demand[event.id][0] if event.id in demand else 0,
            registrations_per_day=_per_day(*demand[event.id], now=now) if event.id in demand else 0,
            peer_registrations=peers.get(event.id, 0),
        )
        for event in facts
    ]


def _per_day(count: int, first: dt.datetime, *, now: dt.datetime) -> float:
    """Registrations per day since the first one; a day's grace so one is not a rush."""
    days = (now - first).total_seconds() / 86400
    return count / (days + VELOCITY_GRACE_DAYS)


def _peer_registrations(*, user, event_ids: list[int], history: History, now: dt.datetime):
    """(event id, count) of registrations by students like this one, made before `now`.

    Students like them: those who registered for an event they registered for, and those
    who follow an organization or category they follow (the cold start's only signal).
    """
    shared_events = [event.id for event in (*history.attended, *history.registered)]
    peers: list[Q] = []
    if shared_events:
        peers.append(
            Q(
                user_id__in=EventRegistration.objects.filter(
                    event_id__in=shared_events, registered_at__lt=now
                ).values("user_id")
            )
        )
    if history.followed_organizations:
        peers.append(
            Q(
                user_id__in=OrganizationFollow.objects.filter(
                    organization_id__in=list(history.followed_organizations)
                ).values("user_id")
            )
        )
    if history.followed_categories:
        peers.append(
            Q(
                user_id__in=CategoryFollow.objects.filter(
                    category_id__in=list(history.followed_categories)
                ).values("user_id")
            )
        )
    if not peers:
        return []
    return (
        EventRegistration.objects.filter(
            reduce(or_, peers), event_id__in=event_ids, registered_at__lt=now
        )
        .exclude(user_id=user.pk)
        .values_list("event_id")
        .annotate(n=Count("id"))
        .order_by()
    )


# --- The pages' entry point --------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    event: EventPost
    reason: str
    kind: str
    meets_access_needs: bool


def picks_compute(*, user, limit: int = PICKS) -> list[Pick]:
    """Rank now for the student (RECOMMENDATION_QUERIES queries), without the cache."""
    history = history_load(user=user)
    candidates = candidates_load(user=user, history=history)
    return rank(history=history, candidates=candidates, now=timezone.now(), limit=limit)


def recommendations_for(
    *, user, limit: int = PICKS, prefetched: dict[str, Any] | None = None
) -> list[Recommendation]:
    """The student's picks with their events: cached picks cost one query.

    `prefetched`: what the page already read from the cache (core.fragments.fetch_together);
    when it holds the picks' key, its value (None: not cached) saves a Redis round trip.
    """
    if not user.is_authenticated:
        return []
    key = cache_key(user.pk)
    picks: list[Pick] | None = (
        prefetched[key] if prefetched is not None and key in prefetched else cache.get(key)
    )
    if picks is None:
        picks = picks_compute(user=user, limit=PICKS)
        cache.set(key, picks, CACHE_SECONDS)
    picks = picks[:limit]
    # Still upcoming and published, and not registered for since the picks were cached.
    events = (
        EventPost.objects.filter(
            pk__in=[pick.event_id for pick in picks],
            status=EventPost.Status.PUBLISHED,
            starts_at__gt=timezone.now(),
        )
        .exclude(pk__in=EventRegistration.objects.filter(user=user).values("event_id"))
        .select_related("category")
    )
    by_id = {event.pk: event for event in events}
    return [
        Recommendation(
            event=by_id[pick.event_id],
            reason=pick.reason,
            kind=pick.kind,
            meets_access_needs=pick.meets_access_needs,
        )
        for pick in picks
        if pick.event_id in by_id
    ]


def recommendations_forget(*, user_id: int) -> None:
    """Drop the cached picks: the next page computes them again."""
    cache.delete(cache_key(user_id))


def recommendations_forget_on_commit(*, user_id: int) -> None:
    """After a change the picks read (a follow, a registration, a hidden pick): drop them now,
    for the page the request redirects to, and again once the change is committed, in case a
    concurrent page cached picks computed before the change was visible."""
    recommendations_forget(user_id=user_id)
    transaction.on_commit(lambda: recommendations_forget(user_id=user_id), robust=True)


def needs_met(event: EventPost, needs: Iterable[str]) -> bool:
    wanted = set(features_ordered(needs))
    return bool(wanted) and wanted <= set(event.access_features)
