"""Score disputes: a student says an attendance entry is missing; the organizer or staff decide.

- `dispute_create`: refused (with the reason) for events the student never held a seat at,
  events not started, cancelled or ended more than WINDOW_DAYS ago, attendance already
  credited, and while another dispute for the event is open (also a database constraint).
- `dispute_accept`: checks the student in after the fact (events.services'
  `registration_check_in_on_dispute`, recorded with who decided) and writes the ledger's
  `attended` entry at once, in the same transaction, through the usual attendance sync, its
  note naming who decided. The sync is idempotent: accepting twice, or the check-in's own
  outbox sync running later, adds nothing.
- `dispute_reject`: needs a reason.

A new dispute is told by e-mail to those who decide it (the event's organizer, or its host's
officers), and a decision to the student (each an outbox row of its action's transaction);
the decision also shows on the student's E-score page.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core import clock, outbox
from core.errors import UserError
from escore.models import ScoreDispute, ScoreEntry
from events import permissions
from events.models import EventPost, EventRegistration
from users.models import User

from .ledger import attendance_ledger_sync

NOTE_MAX = 500


class DisputeRefused(UserError):
    """A dispute that cannot be filed or decided; the message says why."""

    code = "dispute_refused"
    http_status = 409


class DisputeNotFound(UserError):
    code = "not_found"
    http_status = 404
    default_message = "There is no such dispute."


class DisputeInvalid(UserError):
    code = "invalid"
    http_status = 422


def _refuse_unless_disputable(
    *, user: User, event: EventPost, registration: EventRegistration | None
) -> None:
    now = timezone.now()
    title = event.title
    if event.organizer_id == user.pk:
        raise DisputeRefused(f"You organized “{title}”; organizers are not checked in.")
    if registration is None:
        raise DisputeRefused(
            f"You never registered for “{title}”, so there is no attendance to dispute."
        )
    if registration.status == EventRegistration.Status.WAITLISTED:
        raise DisputeRefused(f"You were on the waitlist for “{title}”, not registered.")
    if registration.status == EventRegistration.Status.CANCELLED and not registration.released_at:
        raise DisputeRefused(f"You cancelled your registration for “{title}”.")
    if event.status == EventPost.Status.CANCELLED:
        raise DisputeRefused(f"“{title}” was cancelled; there was nothing to attend.")
    if event.starts_at > now:
        raise DisputeRefused(
            f"“{title}” has not started yet; you are checked in at the door "
            "(or with the event code)."
        )
    if event.ends_at < now - timedelta(days=ScoreDispute.WINDOW_DAYS):
        raise DisputeRefused(
            f"“{title}” ended more than {ScoreDispute.WINDOW_DAYS} days ago "
            f"({clock.day_and_time(event.ends_at)}); disputes are open for "
            f"{ScoreDispute.WINDOW_DAYS} days after an event."
        )
    if registration.checked_in_at is not None:
        raise DisputeRefused(
            f"You were checked in to “{title}”: its points are on your E-score "
            "(they can take a minute to show)."
        )


def dispute_create(
    *, user: User, event_id: int, note: str = "", entry_id: int | None = None
) -> ScoreDispute:
    """File a dispute: "I was at this event but was not checked in" (optionally about an
    entry, such as a check-in undone). Raises DisputeRefused or DisputeNotFound."""
    event = EventPost.objects.filter(pk=event_id).exclude(status=EventPost.Status.DRAFT).first()
    if event is None:
        raise DisputeNotFound("There is no such event.")
    registration = EventRegistration.objects.filter(event=event, user=user).first()
    _refuse_unless_disputable(user=user, event=event, registration=registration)
    entry = None
    if entry_id is not None:
        entry = ScoreEntry.objects.filter(pk=entry_id, user=user, event=event).first()
        if entry is None:
            raise DisputeNotFound("That entry is not one of yours for this event.")
    open_message = (
        f"You already have an open dispute for “{event.title}”; the organizer will decide it soon."
    )
    if ScoreDispute.objects.filter(
        user=user, event=event, status=ScoreDispute.Status.PENDING
    ).exists():
        raise DisputeRefused(open_message)
    from escore import tasks

    try:
        with transaction.atomic():
            dispute = ScoreDispute.objects.create(
                user=user, event=event, entry=entry, note=" ".join(note.split())[:NOTE_MAX]
            )
            # Those who decide are told in the same transaction, so no dispute waits unseen.
            outbox.add(
                tasks.dispute_opened_email_send, dispute.pk, key=f"dispute-opened:{dispute.pk}"
            )
            return dispute
    except IntegrityError as error:
        # Two at once: the constraint lets one through.
        raise DisputeRefused(open_message) from error


def _dispute_locked(*, dispute_id: int, by: User) -> ScoreDispute:
    dispute = (
        ScoreDispute.objects.select_for_update(of=("self",))
        .select_related("event", "user")
        .filter(pk=dispute_id)
        .first()
    )
    if dispute is None:
        raise DisputeNotFound()
    permissions.event_check_access(user=by, event=dispute.event, action=permissions.Action.CHECK_IN)
    return dispute


def _decided(dispute: ScoreDispute, *, status: str, by: User, reason: str = "") -> None:
    from escore import tasks

    dispute.status = status
    dispute.decided_by = by
    dispute.decided_at = timezone.now()
    dispute.decision_reason = reason
    dispute.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    outbox.add(tasks.dispute_decision_email_send, dispute.pk, key=f"dispute-decided:{dispute.pk}")


@transaction.atomic
def dispute_accept(*, dispute_id: int, by: User) -> ScoreDispute:
    """Accept: the student is checked in and credited now. Accepting again changes nothing.

    Only the event's organizer (or its hosts' officers) and staff. Raises DisputeRefused
    for a dispute rejected already, and the check-in's own errors (a cancelled event).
    """
    # Imported here: events.services imports escore's tasks, which import this package.
    from events.services import registration_check_in_on_dispute

    dispute = _dispute_locked(dispute_id=dispute_id, by=by)
    if dispute.status == ScoreDispute.Status.ACCEPTED:
        return dispute
    if dispute.status == ScoreDispute.Status.REJECTED:
        raise DisputeRefused("This dispute was rejected already.")
    # The seat may have changed since the dispute was filed (the student cancelled).
    if not EventRegistration.objects.filter(
        Q(status=EventRegistration.Status.CONFIRMED) | Q(released_at__isnull=False),
        event_id=dispute.event_id,
        user_id=dispute.user_id,
    ).exists():
        raise DisputeRefused(
            "The student no longer holds a registration for this event; reject the dispute."
        )
    registration_check_in_on_dispute(event_id=dispute.event_id, student=dispute.user, by=by)
    attendance_ledger_sync(
        user_id=dispute.user_id,
        event_ids=[dispute.event_id],
        note=f"Dispute accepted by {by.get_full_name() or by.email}",
    )
    _decided(dispute, status=ScoreDispute.Status.ACCEPTED, by=by)
    return dispute


@transaction.atomic
def dispute_reject(*, dispute_id: int, by: User, reason: str) -> ScoreDispute:
    """Reject with a reason the student reads. Rejecting again changes nothing."""
    reason = " ".join(reason.split())[:NOTE_MAX]
    if not reason:
        raise DisputeInvalid("Say why the dispute is rejected; the student reads it.")
    dispute = _dispute_locked(dispute_id=dispute_id, by=by)
    if dispute.status == ScoreDispute.Status.REJECTED:
        return dispute
    if dispute.status == ScoreDispute.Status.ACCEPTED:
        raise DisputeRefused("This dispute was accepted already.")
    _decided(dispute, status=ScoreDispute.Status.REJECTED, by=by, reason=reason)
    return dispute
