"""The weekly digest: new events from the organizations (on by default) and categories (off
until switched on) a student follows, with a one-click unsubscribe.

Beat queues one outbox row per student owed a digest (`digests_queue`); each row sends one
e-mail, once per (student, ISO week) through events.emails' delivery record.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core import clock, outbox
from events import permissions
from events.emails.delivery import Email, absolute, campus_time, deliver
from events.models import EmailDelivery, EventPost
from users.models import User

from .models import CategoryFollow, DigestSettings, Membership, OrganizationFollow

DIGEST_OFF_SALT = "orgs.digest-off"
DIGEST_MAX_EVENTS = 30


def week_of(moment: datetime) -> str:
    year, week, _ = clock.local(moment).isocalendar()
    return f"{year}-W{week:02d}"


def digest_off_token(user: User) -> str:
    """Names the user in the digest's one-click unsubscribe link; it can only do that."""
    return signing.dumps(user.pk, salt=DIGEST_OFF_SALT, compress=True)


def digest_turn_off(*, token: str) -> User | None:
    """Turn both digests off for the token's user; None when the token is not ours."""
    try:
        user_id = signing.loads(token, salt=DIGEST_OFF_SALT)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        DigestSettings.objects.update_or_create(
            user=user, defaults={"organizations": False, "categories": False}
        )
    return user


def _wants(user_id: int) -> tuple[bool, bool]:
    settings_row = DigestSettings.objects.filter(user_id=user_id).first()
    if settings_row is None:
        return True, False
    return settings_row.organizations, settings_row.categories


def digest_recipients() -> QuerySet[User]:
    """Active students who follow an organization with that digest on (the default), or a
    category with that digest switched on."""
    org_off = DigestSettings.objects.filter(user=OuterRef("pk"), organizations=False)
    categories_on = DigestSettings.objects.filter(user=OuterRef("pk"), categories=True)
    follows_org = OrganizationFollow.objects.filter(user=OuterRef("pk"))
    follows_category = CategoryFollow.objects.filter(user=OuterRef("pk"))
    return User.objects.filter(is_active=True).filter(
        (Exists(follows_org) & ~Exists(org_off))
        | (Exists(follows_category) & Exists(categories_on))
    )


def digests_queue(*, now: datetime | None = None) -> int:
    """One outbox row per recipient for this week; queuing twice in a week adds nothing."""
    week = week_of(now or timezone.now())
    from . import tasks

    count = 0
    with transaction.atomic():
        for user_id in digest_recipients().values_list("pk", flat=True).iterator():
            outbox.add(tasks.digest_send, user_id, week, key=f"digest:{user_id}:{week}")
            count += 1
    return count


def digest_events(*, user: User, now: datetime | None = None) -> list[EventPost]:
    """Upcoming events published in the last week from what the student follows (and wants
    in the digest), that listings may show them."""
    now = now or timezone.now()
    want_orgs, want_categories = _wants(user.pk)
    followed = Q()
    if want_orgs:
        org_ids = OrganizationFollow.objects.filter(user=user).values("organization_id")
        followed |= Q(organization__in=org_ids) | Q(cohosts__in=org_ids)
    if want_categories:
        followed |= Q(category__in=CategoryFollow.objects.filter(user=user).values("category_id"))
    if not followed:
        return []
    member_of = Membership.objects.filter(user=user, status=Membership.Status.APPROVED).values(
        "organization_id"
    )
    visible = Q(visibility__in=permissions.listable_visibilities(user)) | Q(
        visibility=EventPost.Visibility.MEMBERS, organization__in=member_of
    )
    return list(
        EventPost.objects.upcoming(now=now)
        .filter(created_at__gte=now - timedelta(days=7))
        .filter(followed)
        .filter(visible)
        .select_related("organization")
        .distinct()[:DIGEST_MAX_EVENTS]
    )


def digest_email_send(*, user_id: int, week: str) -> bool:
    """Send the week's digest unless it went out, the student turned it off, or there is
    nothing new; True when sent now."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    events = digest_events(user=user)
    if not events:
        return False
    off_url = absolute(reverse("orgs:digest-off", args=[digest_off_token(user)]))
    subject = f"New on E-Ren from what you follow ({len(events)})"
    context = {
        "subject": subject,
        "name": user.get_short_name(),
        "events": [
            {
                "title": event.title,
                "host": event.organization.name if event.organization else "",
                "when": campus_time(event.starts_at),
                "url": absolute(event.get_absolute_url()),
            }
            for event in events
        ],
        "unsubscribe_url": off_url,
        "account_url": absolute(reverse("users:account")),
        "site_url": settings.SITE_URL,
        "reason": "You follow these organizations or categories on E-Ren.",
    }
    email = Email(
        subject=subject,
        text=render_to_string("orgs/emails/digest.txt", context),
        html=render_to_string("orgs/emails/digest.html", context),
        headers=(
            ("List-Unsubscribe", f"<{off_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
    )
    return deliver(
        key=f"digest:{user.pk}:{week}", kind=EmailDelivery.Kind.DIGEST, user=user, email=email
    )
