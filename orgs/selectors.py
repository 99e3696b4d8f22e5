"""Reads for organizations: the directory, an organization's page, roster, follows."""

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from events import permissions
from events.models import EventPost

from .models import (
    CategoryFollow,
    DigestSettings,
    Membership,
    Officer,
    OfficerInvitation,
    OrgActivity,
    Organization,
    OrganizationFollow,
)

Visibility = EventPost.Visibility


def organization_list(*, q: str = "", category_slug: str | None = None) -> QuerySet[Organization]:
    """Approved organizations by name, matching the query in name or description."""
    organizations = Organization.objects.filter(status=Organization.Status.APPROVED)
    if q:
        organizations = organizations.filter(Q(name__icontains=q) | Q(description__icontains=q))
    if category_slug:
        organizations = organizations.filter(category__slug=category_slug)
    return (
        organizations.select_related("category")
        .annotate(follower_count=Count("follows", distinct=True))
        .order_by("name")
    )


def organization_get(*, slug: str) -> Organization:
    """An approved organization; Organization.DoesNotExist otherwise."""
    return Organization.objects.select_related("category").get(
        slug=slug, status=Organization.Status.APPROVED
    )


def events_visible_q(*, user, organization_id: int) -> Q:
    """Which of the organization's events this user sees on its page."""
    if permissions.user_is_staff(user) or permissions.org_role(user, organization_id):
        return Q()
    visible = Q(visibility__in=permissions.listable_visibilities(user))
    if permissions.org_user_is_member(user, organization_id):
        visible |= Q(visibility=Visibility.MEMBERS, organization_id=organization_id)
    return visible


def organization_events(
    *, organization: Organization, user, past_limit: int = 20
) -> tuple[list[EventPost], list[EventPost]]:
    """(upcoming soonest first, past newest first) events it hosts or co-hosts."""
    now = timezone.now()
    events = (
        EventPost.objects.filter(Q(organization=organization) | Q(cohosts=organization))
        .filter(status__in=[EventPost.Status.PUBLISHED, EventPost.Status.CANCELLED])
        .filter(events_visible_q(user=user, organization_id=organization.pk))
        .select_related("category", "organization")
        .distinct()
    )
    upcoming = list(events.filter(ends_at__gt=now).order_by("starts_at", "pk")[:50])
    past = list(events.filter(ends_at__lte=now).order_by("-starts_at", "-pk")[:past_limit])
    return upcoming, past


def organization_public_feed(*, organization: Organization) -> list[EventPost]:
    """Public events for the organization's calendar feed (calendar apps cannot log in)."""
    since = timezone.now() - timedelta(days=30)
    return list(
        EventPost.objects.filter(Q(organization=organization) | Q(cohosts=organization))
        .filter(
            status__in=[EventPost.Status.PUBLISHED, EventPost.Status.CANCELLED],
            visibility=Visibility.PUBLIC,
            ends_at__gt=since,
        )
        .select_related("category")
        .distinct()
        .order_by("starts_at")[:500]
    )


def followed_events(*, user, limit: int = 6) -> list[EventPost]:
    """Upcoming events of the organizations the student follows: the home page's section."""
    if not user.is_authenticated:
        return []
    # The followed ids first (a student follows a handful): with them as constants the
    # events come from the organization index, not from a scan of every upcoming event that
    # a join with the co-hosts and a DISTINCT over every column needed (13 ms on the demo).
    followed = list(
        OrganizationFollow.objects.filter(user=user).values_list("organization_id", flat=True)
    )
    if not followed:
        return []
    member_of = Membership.objects.filter(user=user, status=Membership.Status.APPROVED).values(
        "organization_id"
    )
    visible = Q(visibility__in=permissions.listable_visibilities(user)) | Q(
        visibility=Visibility.MEMBERS, organization__in=member_of
    )
    # Then the ids of their upcoming events, unordered, from the organization index: asked
    # for in start order with a limit, PostgreSQL walks the start-order index from the
    # oldest published event and filters out every past one (1,800 rows, 2.8 ms on the
    # demo; this and the rows below: 0.3 ms).
    now = timezone.now()
    hosted = (
        EventPost.objects.published()
        .filter(organization_id__in=followed, ends_at__gt=now)
        .order_by()
        .values_list("pk", flat=True)
    )
    cohosted = EventPost.cohosts.through.objects.filter(organization_id__in=followed)
    event_ids = list(hosted.union(cohosted.values_list("eventpost_id", flat=True), all=True))
    if not event_ids:
        return []
    return list(
        EventPost.objects.upcoming(now=now)
        .filter(pk__in=event_ids)
        .filter(visible)
        .select_related("category", "organization")
        .defer("search_vector")
        .order_by("starts_at", "pk")[:limit]
    )


def viewer_state(*, user, organization: Organization) -> dict:
    """Follow, membership and officer role of the viewer, for the page's buttons."""
    if not user.is_authenticated:
        return {"following": False, "membership": None, "role": None}
    return {
        "following": OrganizationFollow.objects.filter(
            user=user, organization=organization
        ).exists(),
        "membership": Membership.objects.filter(user=user, organization=organization).first(),
        "role": permissions.org_role(user, organization.pk),
    }


def officer_list(*, organization: Organization) -> list[Officer]:
    return list(
        Officer.objects.filter(organization=organization)
        .select_related("user")
        .order_by("role", "user__display_name")
    )


def activity_list(*, organization: Organization, limit: int = 30) -> list[OrgActivity]:
    return list(
        OrgActivity.objects.filter(organization=organization).select_related(
            "actor", "subject", "event"
        )[:limit]
    )


def invitations_open(*, organization: Organization) -> list[OfficerInvitation]:
    return list(organization.invitations.filter(accepted_at__isnull=True)[:50])


def membership_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("status", "user__display_name", "user__email")
    )


def followed_organizations(*, user) -> QuerySet[Organization]:
    return Organization.objects.filter(follows__user=user).order_by("name")


def followed_category_ids(*, user) -> set[int]:
    return set(CategoryFollow.objects.filter(user=user).values_list("category_id", flat=True))


def digest_settings(*, user) -> DigestSettings:
    return DigestSettings.objects.filter(user=user).first() or DigestSettings(user=user)
