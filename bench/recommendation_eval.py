"""Offline evaluation of the "For you" ranker: hit rate at 10 against two baselines.

    make bench-recommendations          # seeds the demo into its own database if empty
    DATABASE_URL=postgres://…/eren_bench_demo python -m bench.recommendation_eval

For each student with at least MIN_ATTENDED attended events, the last HOLDOUT attended events
(by start) are held out. The moment of ranking is just before the student registered for the
first of them; everything is computed as of that moment (events.recommendations, `as_of`):
only registrations, check-ins, cancellations, follows and "not interested" made before it
count, candidates are the events starting after it, and events the student had registered
for by then are left out for every ranker. A student is a hit when a held-out event is in
the top 10. The baselines rank the same candidates by registrations made before the moment
("most popular") and by start time ("soonest"). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eren.settings.base")
django.setup()

from django.db.models import Count, Min  # noqa: E402

from events import recommendations  # noqa: E402
from events.models import EventRegistration  # noqa: E402
from users.models import User  # noqa: E402

MIN_ATTENDED = 3
HOLDOUT = 1
K = 10


@dataclass
class Tally:
    name: str
    hits: int = 0
    reciprocal_ranks: list[float] = field(default_factory=list)

    def add(self, ranked: list[int], held_out: set[int]) -> None:
        positions = [i for i, event_id in enumerate(ranked[:K]) if event_id in held_out]
        self.hits += bool(positions)
        self.reciprocal_ranks.append(1 / (positions[0] + 1) if positions else 0.0)


@dataclass(frozen=True)
class Case:
    user_id: int
    as_of: dt.datetime
    held_out: frozenset[int]


def cases_build(*, holdout: int, min_attended: int, limit: int | None) -> list[Case]:
    """Students with enough attended events, their held-out events and the moment of ranking."""
    attended = (
        EventRegistration.objects.filter(checked_in_at__isnull=False)
        .values_list("user_id", "event_id", "event__starts_at", "registered_at")
        .order_by("user_id", "event__starts_at", "event_id")
    )
    by_user: dict[int, list[tuple[int, dt.datetime, dt.datetime]]] = {}
    for user_id, event_id, starts_at, registered_at in attended:
        by_user.setdefault(user_id, []).append((event_id, starts_at, registered_at))
    cases = []
    for user_id, rows in sorted(by_user.items()):
        if len(rows) < min_attended:
            continue
        last = rows[-holdout:]
        cases.append(
            Case(
                user_id=user_id,
                as_of=min(registered_at for _, _, registered_at in last),
                held_out=frozenset(event_id for event_id, _, _ in last),
            )
        )
    return cases[:limit] if limit else cases


def popular_counts(event_ids: Iterable[int], *, as_of: dt.datetime) -> dict[int, int]:
    return dict(
        EventRegistration.objects.filter(event_id__in=list(event_ids), registered_at__lt=as_of)
        .values_list("event_id")
        .annotate(n=Count("id"))
        .order_by()
    )


def evaluate(cases: list[Case], *, k: int = K) -> dict[str, Tally]:
    """Hit rate of the ranker and the two baselines over the cases."""
    tallies = {name: Tally(name) for name in ("ranker", "most popular", "soonest")}
    users = User.objects.in_bulk([case.user_id for case in cases])
    for case in cases:
        user = users[case.user_id]
        history = recommendations.history_load(user=user, as_of=case.as_of)
        candidates = recommendations.candidates_load(user=user, history=history, as_of=case.as_of)
        events = [candidate.event for candidate in candidates]
        picks = recommendations.rank(
            history=history, candidates=candidates, now=case.as_of, limit=k
        )
        tallies["ranker"].add([pick.event_id for pick in picks], set(case.held_out))
        counts = popular_counts((event.id for event in events), as_of=case.as_of)
        popular = sorted(events, key=lambda e: (-counts.get(e.id, 0), e.starts_at, e.id))
        tallies["most popular"].add([e.id for e in popular], set(case.held_out))
        soonest = sorted(events, key=lambda e: (e.starts_at, e.id))
        tallies["soonest"].add([e.id for e in soonest], set(case.held_out))
    return tallies


def table(tallies: dict[str, Tally], *, students: int) -> str:
    lines = [
        f"| ranker | hit rate @{K} | MRR @{K} | students |",
        "|---|---:|---:|---:|",
    ]
    for tally in tallies.values():
        rate = tally.hits / students if students else 0.0
        mrr = sum(tally.reciprocal_ranks) / students if students else 0.0
        lines.append(f"| {tally.name} | {rate:.3f} ({tally.hits}) | {mrr:.3f} | {students} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--holdout", type=int, default=HOLDOUT, help="Held-out events each.")
    parser.add_argument("--min-attended", type=int, default=MIN_ATTENDED)
    parser.add_argument("--students", type=int, default=None, help="At most this many.")
    args = parser.parse_args(argv)

    if not EventRegistration.objects.filter(checked_in_at__isnull=False).exists():
        print("No attended events: seed the demo first (manage.py seed_demo).", file=sys.stderr)
        return 2
    started = time.perf_counter()
    cases = cases_build(holdout=args.holdout, min_attended=args.min_attended, limit=args.students)
    tallies = evaluate(cases)
    seconds = time.perf_counter() - started
    moments = EventRegistration.objects.aggregate(first=Min("registered_at"))
    print(
        f"Hold-out evaluation: last {args.holdout} attended event(s) of {len(cases)} students "
        f"with ≥ {args.min_attended} attended; ranked as of just before registering for them "
        f"(data from {moments['first']:%Y-%m-%d}); {seconds:.1f} s on {platform.python_version()}."
    )
    print()
    print(table(tallies, students=len(cases)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
