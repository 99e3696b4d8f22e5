"""The e-mail that tells a student how their score dispute was decided, once per dispute."""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from events.emails.delivery import Email, absolute, deliver, one_line
from events.models import EmailDelivery

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
