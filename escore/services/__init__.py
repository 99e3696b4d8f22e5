"""Writes for the E-score, in two modules; this package re-exports their public names.

| module       | holds                                                                  |
|--------------|------------------------------------------------------------------------|
| ledger       | attendance and category bonus, organizer awards, the attendance sweep  |
| leaderboards | Redis totals from the ledger: refresh, rebuild, reconcile              |
| disputes     | a student's dispute of a missing entry; the organizer's decision       |

Reads (scopes, totals, the leaderboard, a student's score) are in `escore.selectors`.
"""

from .disputes import (
    DisputeInvalid,
    DisputeNotFound,
    DisputeRefused,
    dispute_accept,
    dispute_create,
    dispute_reject,
)
from .leaderboards import (
    ReconcileReport,
    leaderboard_rebuild,
    leaderboard_reconcile,
    leaderboard_refresh_user,
    leaderboard_refresh_users,
)
from .ledger import (
    attendance_ledger_sync,
    organizer_ledger_award,
    score_attendance_reconcile,
    score_attendance_sync,
    score_organizer_award,
    score_organizer_awards_due,
)

__all__ = [
    "DisputeInvalid",
    "DisputeNotFound",
    "DisputeRefused",
    "ReconcileReport",
    "attendance_ledger_sync",
    "dispute_accept",
    "dispute_create",
    "dispute_reject",
    "leaderboard_rebuild",
    "leaderboard_reconcile",
    "leaderboard_refresh_user",
    "leaderboard_refresh_users",
    "organizer_ledger_award",
    "score_attendance_reconcile",
    "score_attendance_sync",
    "score_organizer_award",
    "score_organizer_awards_due",
]
