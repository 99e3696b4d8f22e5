"""JSON API for events: the same selectors, search and services as the pages."""

from datetime import datetime
from urllib.parse import urljoin

from django.conf import settings
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from ninja.security import django_auth

from eren.api import ApiError

from . import selectors, services
from .models import EventCategory, EventPost, EventRegistration
from .search import SearchParamsError, event_search, parse_search_params

router = Router(tags=["events"])
INVALID = "Some input is not valid."
MAX_PAGE_SIZE = 100
me_router = Router(tags=["me"], auth=django_auth)


class CategoryOut(Schema):
    slug: str
    name: str
    description: str


class EventOut(Schema):
    id: int
    url: str
    title: str
    description: str
    category: CategoryOut
    starts_at: datetime
    ends_at: datetime
    location_name: str
    address: str
    latitude: float | None
    longitude: float | None
    status: str
    capacity: int | None
    seats_left: int | None
    waitlist_count: int
    cancellation_reason: str

    @staticmethod
    def resolve_url(event: EventPost) -> str:
        return urljoin(settings.SITE_URL, event.get_absolute_url())


class SearchHitOut(EventOut):
    rank: float | None = None
    distance_km: float | None = None
    headline_title: str | None = None
    headline_description: str | None = None


class FacetOut(Schema):
    slug: str
    name: str
    count: int


class EventPageOut(Schema):
    count: int
    count_is_capped: bool
    page: int
    page_size: int
    has_next: bool
    results: list[SearchHitOut]
    facets: list[FacetOut]
    did_you_mean: str | None


class RegistrationOut(Schema):
    event_id: int
    status: str
    waitlist_position: int | None
    registered_at: datetime
    checked_in_at: datetime | None


class MyRegistrationOut(RegistrationOut):
    event: EventOut


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class ErrorOut(Schema):
    error: ErrorBody


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _registration_out(registration: EventRegistration) -> dict:
    return {
        "event_id": registration.event_id,
        "status": registration.status,
        "waitlist_position": selectors.registration_waitlist_position(registration=registration),
        "registered_at": registration.registered_at,
        "checked_in_at": registration.checked_in_at,
    }


def _raise_registration_error(error: services.RegistrationError):
    raise ApiError(error.http_status, error.message, code=error.code) from error


@router.get("/categories", response=list[CategoryOut], summary="All event categories")
def category_list(request: HttpRequest):
    return EventCategory.objects.order_by("name")


@router.get(
    "/events",
    response={200: EventPageOut, **ERRORS},
    summary="Search and list events",
    description=(
        'Query parameters as on the search page: `q` (web-search syntax: "exact phrase", '
        "-exclude, or), `category` (repeatable slug), `from`/`to` (dates, Central time), "
        "`near` (a campus building slug or `lat,lng`) with `radius_km`, `sort` "
        "(relevance|start|distance), `past=1` to include ended events, `page`, `page_size`."
    ),
)
def event_list(request: HttpRequest, page: int = 1, page_size: int = 20):
    if page < 1:
        raise ApiError(422, INVALID, fields={"page": ["Must be 1 or more."]})
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ApiError(422, INVALID, fields={"page_size": [f"Must be 1 to {MAX_PAGE_SIZE}."]})
    try:
        params = parse_search_params(request.GET)
    except SearchParamsError as error:
        raise ApiError(422, INVALID, fields=error.fields) from error
    results = event_search(params, page=page, page_size=page_size)
    return {
        "count": results.total,
        "count_is_capped": results.total_is_capped,
        "page": page,
        "page_size": page_size,
        "has_next": results.has_next(),
        "results": results.events,
        "facets": [
            {"slug": slug, "name": name, "count": count} for slug, name, count in results.facets
        ],
        "did_you_mean": results.did_you_mean,
    }


@router.get("/events/{event_id}", response={200: EventOut, 404: ErrorOut}, summary="One event")
def event_detail(request: HttpRequest, event_id: int):
    try:
        return selectors.event_get_visible(event_id=event_id)
    except EventPost.DoesNotExist as error:
        raise Http404("There is no such event.") from error


@router.post(
    "/events/{event_id}/registration",
    response={201: RegistrationOut, **ERRORS},
    auth=django_auth,
    summary="Register (or join the waitlist)",
    description="Idempotent: registering again returns the existing registration.",
)
def registration_create(request: HttpRequest, event_id: int):
    try:
        registration = services.registration_create(event_id=event_id, user=request.auth)
    except services.RegistrationError as error:
        _raise_registration_error(error)
    return Status(201, _registration_out(registration))


@router.delete(
    "/events/{event_id}/registration",
    response={204: None, **ERRORS},
    auth=django_auth,
    summary="Cancel my registration",
)
def registration_cancel(request: HttpRequest, event_id: int):
    try:
        services.registration_cancel(event_id=event_id, user=request.auth)
    except services.RegistrationError as error:
        _raise_registration_error(error)
    return Status(204, None)


@me_router.get(
    "/registrations",
    response={200: list[MyRegistrationOut], 401: ErrorOut},
    summary="My registrations, soonest first",
)
def my_registrations(request: HttpRequest):
    registrations = selectors.registration_list_for_user(user=request.auth)
    return [
        {
            "event_id": registration.event_id,
            "status": registration.status,
            # Annotated by the selector in the same query.
            "waitlist_position": registration.waitlist_position,
            "registered_at": registration.registered_at,
            "checked_in_at": registration.checked_in_at,
            "event": registration.event,
        }
        for registration in registrations
    ]
