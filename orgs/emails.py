"""The organization e-mails that go to an address rather than an account: invitations."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from events.emails.delivery import absolute, message_id, one_line

from .models import Officer, OfficerInvitation

logger = logging.getLogger(__name__)


def invitation_email_send(*, invitation_id: int) -> bool:
    """Send the invitation unless it went out already; True when sent now.

    The outbox runs one copy at a time; `emailed_at`, set after the mail server took it,
    makes a retry send nothing (a worker dying between the two sends it once more).
    """
    invitation = (
        OfficerInvitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id, emailed_at__isnull=True, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return False
    organization = invitation.organization
    context = {
        "subject": one_line(f"Be {Officer.Role(invitation.role).label.lower()} of {organization}"),
        "name": invitation.email,
        "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else "E-Ren",
        "role": Officer.Role(invitation.role).label.lower(),
        "organization": organization,
        "accept_url": absolute(invitation.get_absolute_url()),
        "site_url": settings.SITE_URL,
        "reason": f"An officer of {organization} typed your address on E-Ren.",
    }
    message = EmailMultiAlternatives(
        subject=context["subject"],
        body=render_to_string("orgs/emails/invitation.txt", context),
        to=[invitation.email],
        headers={"Message-ID": message_id(f"org-invitation:{invitation.pk}")},
    )
    message.attach_alternative(
        render_to_string("orgs/emails/invitation.html", context), "text/html"
    )
    message.send()
    with transaction.atomic():
        OfficerInvitation.objects.filter(pk=invitation.pk).update(emailed_at=timezone.now())
    return True
