"""Score dispute e-mails, each sent once: a new dispute to those who decide it, and the
decision to the student."""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from events.emails.delivery import Email, absolute, campus_time, deliver, one_line
from events.models import EmailDelivery, EventPost
from orgs.models import Officer
from users.models import User

from .models import ScoreDispute


def dispute_decision_email_send(*, dispute_id: int) -> bool:
    """Send the decision of a decided dispute; True when sent now (False: sent already, or
    still pending)."""
    dispute = (
        ScoreDispute.objects.select_related("user", "event", "decided_by")
        .filter(pk=dispute_id)
        .exclude(status=ScoreDispute.Status.PENDING)
        .first()
    )
    if dispute is None or not dispute.user.is_active:
        return False
    accepted = dispute.status == ScoreDispute.Status.ACCEPTED
    title = one_line(dispute.event.title)
    subject = (
        f"Your dispute was accepted: {title}" if accepted else f"Your dispute was rejected: {title}"
    )
    context = {
        "subject": subject,
        "name": dispute.user.get_short_name(),
        "accepted": accepted,
        "title": dispute.event.title,
        "reason_given": dispute.decision_reason,
        "decided_by": dispute.decided_by.get_full_name() if dispute.decided_by else "",
        "escore_url": absolute(reverse("escore:mine")),
        "account_url": absolute(reverse("users:account")),
        "site_url": settings.SITE_URL,
        "reason": "You disputed your E-score on E-Ren.",
    }
    email = Email(
        subject=subject,
        text=render_to_string("escore/emails/dispute_decided.txt", context),
        html=render_to_string("escore/emails/dispute_decided.html", context),
    )
    return deliver(
        key=f"dispute-decided:{dispute.pk}",
        kind=EmailDelivery.Kind.DISPUTE_DECIDED,
        user=dispute.user,
        email=email,
    )


def dispute_deciders(event: EventPost) -> list[User]:
    """Who is told of a new dispute: the host's officers for an organization's event (every
    role may check students in), else its organizer while they hold the role. Staff decide
    any dispute from their list but are not mailed about each one."""
    if event.organization_id is not None:
        officers = Officer.objects.filter(organization_id=event.organization_id)
        return list(
            User.objects.filter(pk__in=officers.values("user_id"), is_active=True).order_by("pk")
        )
    organizer = event.organizer
    return [organizer] if organizer.is_active and organizer.is_organizer else []


def dispute_opened_email_send(*, dispute_id: int) -> int:
    """Tell each decider of a still open dispute about it; returns how many were sent now.

    Keyed per dispute and recipient, so a retry after some went out sends only the others.
    """
    dispute = (
        ScoreDispute.objects.select_related("user", "event", "event__organizer")
        .filter(pk=dispute_id, status=ScoreDispute.Status.PENDING)
        .first()
    )
    if dispute is None:
        return 0
    event = dispute.event
    title = one_line(event.title)
    subject = f"A student disputes their attendance: {title}"
    sent = 0
    for decider in dispute_deciders(event):
        context = {
            "subject": subject,
            "name": decider.get_short_name(),
            "student": dispute.user.get_full_name() or dispute.user.email,
            "title": event.title,
            "when": campus_time(event.starts_at),
            "note": dispute.note,
            "disputes_url": absolute(reverse("escore:disputes")),
            "account_url": absolute(reverse("users:account")),
            "site_url": settings.SITE_URL,
            "reason": "You run this event on E-Ren.",
        }
        email = Email(
            subject=subject,
            text=render_to_string("escore/emails/dispute_opened.txt", context),
            html=render_to_string("escore/emails/dispute_opened.html", context),
        )
        sent += deliver(
            key=f"dispute-opened:{dispute.pk}:{decider.pk}",
            kind=EmailDelivery.Kind.DISPUTE_OPENED,
            user=decider,
            email=email,
        )
    return sent
