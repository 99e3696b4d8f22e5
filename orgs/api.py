"""JSON API for organizations: the directory, one organization, follow and membership."""

from datetime import datetime

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.security import django_auth

from core.api import ERRORS, ErrorOut
from events.api import EventOut
from events.models import EventCategory
from users.requests import ApiRequest

from . import selectors, services
from .models import Organization

router = Router(tags=["orgs"])
MAX_PAGE_SIZE = 100


class OrganizationOut(Schema):
    slug: str
    name: str
    description: str
    category: str | None
    logo_url: str
    contact_email: str
    website: str
    links: list[str]
    join_policy: str

    @staticmethod
    def resolve_category(organization: Organization) -> str | None:
        return organization.category.slug if organization.category else None


class OrganizationPageOut(Schema):
    count: int
    page: int
    page_size: int
    has_next: bool
    results: list[OrganizationOut]


class OrganizationDetailOut(OrganizationOut):
    upcoming_events: list[EventOut]
    following: bool
    membership: str | None
    role: str | None


class MembershipOut(Schema):
    organization: str
    status: str
    created_at: datetime


def _organization(slug: str) -> Organization:
    try:
        return selectors.organization_get(slug=slug)
    except Organization.DoesNotExist as error:
        raise Http404("There is no such organization.") from error


@router.get(
    "/orgs",
    response={200: OrganizationPageOut, **ERRORS},
    summary="Approved organizations by name",
    description="`q` searches names and descriptions; `category` is a category slug.",
)
def organization_list(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    category: str = Query("", max_length=80),
    page: int = Query(1, ge=1),
    page_size: int = Query(30, ge=1, le=MAX_PAGE_SIZE),
):
    organizations = selectors.organization_list(q=q.strip(), category_slug=category or None)
    current = Paginator(organizations, page_size).get_page(page)
    return {
        "count": current.paginator.count,
        "page": current.number,
        "page_size": page_size,
        "has_next": current.has_next(),
        "results": list(current.object_list),
    }


@router.get(
    "/orgs/{slug}",
    response={200: OrganizationDetailOut, 404: ErrorOut},
    summary="One organization, with the upcoming events the caller may see",
)
def organization_detail(request: HttpRequest, slug: str):
    organization = _organization(slug)
    upcoming, _ = selectors.organization_events(
        organization=organization, user=request.user, past_limit=0
    )
    state = selectors.viewer_state(user=request.user, organization=organization)
    organization.upcoming_events = upcoming  # type: ignore[attr-defined]
    organization.following = state["following"]  # type: ignore[attr-defined]
    membership = state["membership"]
    organization.membership = membership.status if membership else None  # type: ignore[attr-defined]
    organization.role = state["role"]  # type: ignore[attr-defined]
    return organization


@router.post(
    "/orgs/{slug}/follow",
    response={204: None, **ERRORS},
    auth=django_auth,
    summary="Follow: its new events on my home page and in my weekly digest",
)
def follow(request: ApiRequest, slug: str):
    services.organization_follow(organization_id=_organization(slug).pk, user=request.auth)
    return Status(204, None)


@router.delete("/orgs/{slug}/follow", response={204: None, **ERRORS}, auth=django_auth)
def unfollow(request: ApiRequest, slug: str):
    services.organization_unfollow(organization_id=_organization(slug).pk, user=request.auth)
    return Status(204, None)


@router.post(
    "/orgs/{slug}/membership",
    response={201: MembershipOut, **ERRORS},
    auth=django_auth,
    summary="Join: a member at once, or waiting for an officer's approval",
    description="Idempotent: joining again returns the existing membership.",
)
def membership_join(request: ApiRequest, slug: str):
    organization = _organization(slug)
    membership = services.membership_join(organization_id=organization.pk, user=request.auth)
    return Status(
        201,
        {
            "organization": organization.slug,
            "status": membership.status,
            "created_at": membership.created_at,
        },
    )


@router.delete(
    "/orgs/{slug}/membership",
    response={204: None, **ERRORS},
    auth=django_auth,
    summary="Leave, or withdraw a request to join",
)
def membership_leave(request: ApiRequest, slug: str):
    services.membership_leave(organization_id=_organization(slug).pk, user=request.auth)
    return Status(204, None)


def _category(slug: str) -> EventCategory:
    category = EventCategory.objects.filter(slug=slug).first()
    if category is None:
        raise Http404("There is no such category.")
    return category


@router.post(
    "/categories/{slug}/follow",
    response={204: None, **ERRORS},
    auth=django_auth,
    summary="Follow a category: its new events in my weekly digest, once switched on",
)
def category_follow(request: ApiRequest, slug: str):
    services.category_follow(category=_category(slug), user=request.auth)
    return Status(204, None)


@router.delete("/categories/{slug}/follow", response={204: None, **ERRORS}, auth=django_auth)
def category_unfollow(request: ApiRequest, slug: str):
    services.category_unfollow(category=_category(slug), user=request.auth)
    return Status(204, None)
