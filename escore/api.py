"""JSON API for the E-score: the same selectors and services as the pages.

Score disputes as on the pages: a student lists and opens their own under /me/escore/disputes;
organizers, officers and staff list the open ones they may decide and accept or reject them
under /organize/disputes (the pages' paths), with the pages' refusals.
"""

from datetime import datetime
from urllib.parse import urljoin

from django.conf import settings
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from ninja.security import django_auth
from pydantic import BaseModel, ConfigDict

from core.api import ERRORS, ErrorOut, InputSchema
from users.requests import ApiRequest

from . import selectors, services
from .access import disputes_check_decider, leaderboard_check_viewer
from .models import ScoreDispute
from .services.disputes import NOTE_MAX

router = Router(tags=["escore"])
MAX_LIMIT = 100


class _PlainOut(BaseModel):
    """A response read from plain objects by pydantic itself, in its compiled core.

    ninja's Schema reads every field through a Python getter (made for ORM objects); for the
    leaderboard's 50 rows that was a quarter of the request's instructions (callgrind: 11.4
    million a request before, 8.3 after). Use it for responses built from dataclasses.
    """

    model_config = ConfigDict(from_attributes=True)


class TermOut(_PlainOut):
    key: str
    name: str
    starts_at: datetime
    ends_at: datetime


class LeaderboardRowOut(_PlainOut):
    rank: int
    name: str
    score: int
    is_me: bool


class OwnStandingOut(_PlainOut):
    score: int
    rank: int
    percentile: int
    listed: bool


class LeaderboardOut(_PlainOut):
    scope: str
    term: TermOut | None
    listed_count: int
    delayed: bool
    results: list[LeaderboardRowOut]
    me: OwnStandingOut | None


class EventRefOut(Schema):
    id: int
    title: str
    url: str


class ScoreEntryOut(Schema):
    points: int
    reason: str
    reason_label: str
    event: EventRefOut | None
    note: str
    term: str
    created_at: datetime


class MyEscoreOut(Schema):
    total: int
    term: TermOut
    term_total: int
    entries: list[ScoreEntryOut]


def _term_out(term) -> dict | None:
    if term is None:
        return None
    return {
        "key": term.key,
        "name": term.name,
        "starts_at": term.starts_at,
        "ends_at": term.ends_at,
    }


@router.get(
    "/leaderboard",
    response={200: LeaderboardOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    auth=django_auth,
    summary="E-score leaderboard (signed-in WashU accounts)",
    description=(
        "For accounts with a confirmed WashU address (403 `email_unverified` otherwise). "
        "Students appear by pseudonym unless they chose to show their name. "
        "`term` is `current` (this term) or `all` (all time); `limit` is 1 to 100 (default 50). "
        "Ties share a rank (1, 2, 2, 4). `me` is the logged-in student's own standing, also "
        "when they are hidden from the list. `delayed` is true when Redis was unreachable and "
        "the answer came from the database."
    ),
)
def leaderboard(
    request: ApiRequest,
    term: str = Query("current", pattern="^(current|all)$"),
    limit: int = Query(selectors.DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    leaderboard_check_viewer(user=request.auth)
    board = selectors.leaderboard_get(scope=term, user=request.auth, limit=limit)
    return {
        "scope": board.scope,
        "term": _term_out(board.term),
        "listed_count": board.listed_count,
        "delayed": board.delayed,
        "results": board.rows,
        "me": board.me,
    }


@router.get(
    "/me/escore",
    response={200: MyEscoreOut, 401: ErrorOut},
    auth=django_auth,
    summary="My E-score and every entry behind it",
)
def my_escore(request: ApiRequest):
    summary = selectors.escore_summary(user=request.auth)
    return {
        "total": summary.total,
        "term": _term_out(summary.term),
        "term_total": summary.term_total,
        "entries": [
            {
                "points": entry.points,
                "reason": entry.reason,
                "reason_label": entry.get_reason_display(),
                "event": entry.event
                and {
                    "id": entry.event_id,
                    "title": entry.event.title,
                    "url": urljoin(
                        settings.SITE_URL, reverse("events:detail", args=[entry.event_id])
                    ),
                },
                "note": entry.note,
                "term": entry.term.key,  # type: ignore[attr-defined]
                "created_at": entry.created_at,
            }
            for entry in summary.entries
        ],
    }


# --- Score disputes ---------------------------------------------------------------------------


class DisputeIn(InputSchema):
    event_id: int = Field(ge=1, le=2**31 - 1, description="The event you attended.")
    entry_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The entry disputed (a check-in undone), if any."
    )
    note: str = Field("", max_length=NOTE_MAX, description="For the organizer (optional).")


class DecisionIn(InputSchema):
    reason: str = Field(max_length=NOTE_MAX, description="Why; the student reads it.")


class DisputeOut(Schema):
    id: int
    event: EventRefOut
    entry_id: int | None
    note: str
    status: str = Field(description="pending | accepted | rejected")
    decided_by: str | None = Field(description="The name of who decided.")
    decided_at: datetime | None
    decision_reason: str
    created_at: datetime


class StudentOut(Schema):
    name: str
    email: str


class DisputeToDecideOut(DisputeOut):
    student: StudentOut


def _dispute_out(dispute: ScoreDispute) -> dict:
    event = dispute.event
    return {
        "id": dispute.pk,
        "event": {
            "id": event.pk,
            "title": event.title,
            "url": urljoin(settings.SITE_URL, reverse("events:detail", args=[event.pk])),
        },
        "entry_id": dispute.entry_id,
        "note": dispute.note,
        "status": dispute.status,
        "decided_by": dispute.decided_by.get_full_name() if dispute.decided_by else None,
        "decided_at": dispute.decided_at,
        "decision_reason": dispute.decision_reason,
        "created_at": dispute.created_at,
    }


def _dispute_to_decide_out(dispute: ScoreDispute) -> dict:
    student = dispute.user
    return {
        **_dispute_out(dispute),
        "student": {"name": student.get_full_name(), "email": student.email},
    }


@router.get(
    "/me/escore/disputes",
    response={200: list[DisputeOut], 401: ErrorOut},
    auth=django_auth,
    summary="My score disputes, newest first, with their decisions",
)
def my_disputes(request: ApiRequest):
    return [_dispute_out(dispute) for dispute in selectors.disputes_of(user=request.auth)]


@router.post(
    "/me/escore/disputes",
    response={201: DisputeOut, **ERRORS},
    auth=django_auth,
    summary="Dispute a missing attendance entry: I was there but was not checked in",
    description=f"Refused with 409 `dispute_refused` and the reason: events you never held a "
    f"seat at, not started, cancelled or ended more than {ScoreDispute.WINDOW_DAYS} days ago, "
    "already credited, or with a dispute of yours still open. 404 for an unknown event or "
    "an entry that is not yours.",
)
def dispute_create(request: ApiRequest, payload: DisputeIn):
    dispute = services.dispute_create(user=request.auth, **payload.dict())
    return Status(201, _dispute_out(dispute))


@router.get(
    "/organize/disputes",
    response={200: list[DisputeToDecideOut], **ERRORS},
    auth=django_auth,
    summary="Open disputes I may decide, oldest first (organizers, officers, staff)",
)
def disputes_to_decide(request: ApiRequest):
    disputes_check_decider(user=request.auth)
    disputes = selectors.disputes_pending_for(user=request.auth)
    return [_dispute_to_decide_out(dispute) for dispute in disputes]


@router.post(
    "/organize/disputes/{dispute_id}/accept",
    response={200: DisputeToDecideOut, **ERRORS},
    auth=django_auth,
    summary="Accept a dispute: the student is checked in and credited; they are told",
    description="Only the event's organizer (or its hosts' officers) and staff (403 "
    "otherwise). Accepting again changes nothing; a rejected dispute answers 409.",
)
def dispute_accept(request: ApiRequest, dispute_id: int):
    dispute = services.dispute_accept(dispute_id=dispute_id, by=request.auth)
    return _dispute_to_decide_out(dispute)


@router.post(
    "/organize/disputes/{dispute_id}/reject",
    response={200: DisputeToDecideOut, **ERRORS},
    auth=django_auth,
    summary="Reject a dispute with a reason the student reads",
    description="An empty reason answers 422; an accepted dispute 409.",
)
def dispute_reject(request: ApiRequest, dispute_id: int, payload: DecisionIn):
    dispute = services.dispute_reject(dispute_id=dispute_id, by=request.auth, reason=payload.reason)
    return _dispute_to_decide_out(dispute)
