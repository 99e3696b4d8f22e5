"""JSON API for events: the same selectors, search and services as the pages."""

import json
from dataclasses import replace
from datetime import date, datetime
from urllib.parse import urljoin

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.responses import NinjaJSONEncoder
from ninja.security import django_auth
from pydantic import ValidationError

from core.api import ERRORS, ErrorOut, InputSchema
from orgs.models import Organization
from users.requests import ApiRequest

from . import check_in_codes, permissions, recommendations, selectors, services
from .access import ACCESS_CONTACT_MAX_LENGTH, ALLERGENS_MAX_LENGTH, AccessFeature
from .images import IMAGE_MAX_BYTES
from .models import (
    CHECK_IN_RADIUS_MAX_M,
    CHECK_IN_RADIUS_MIN_M,
    GUESTS_MAX,
    NO_SHOW_GRACE_DEFAULT_MINUTES,
    NO_SHOW_GRACE_MAX_MINUTES,
    EventCategory,
    EventPost,
    EventQuestion,
    EventRegistration,
    EventSeries,
)
from .search import (
    PageOutOfRange,
    event_search,
    highlight_segments,
    parse_search_params,
    search_ways_out,
    searcher_needs,
)
from .search.params import MAX_PAGE_NUMBER
from .tickets import ticket_qr_svg

router = Router(tags=["events"])
MAX_PAGE_SIZE = 100
me_router = Router(tags=["me"], auth=django_auth)


class CategoryOut(Schema):
    slug: str
    name: str
    description: str


class ImageOut(Schema):
    large: str = Field(description="1600 px wide (at most).")
    medium: str = Field(description="800 px wide (at most).")
    small: str = Field(description="400 px wide (at most).")
    alt: str


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
    registration_open: bool
    registration_required: bool
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    cancellation_deadline: datetime | None
    cancellation_open: bool
    guests_max: int
    mode: str = Field(description="in_person | online | hybrid")
    series_id: int | None = Field(description="The recurring series this event belongs to.")
    image: ImageOut | None = Field(description="The cover image; null: show the category's.")
    walk_ins_beyond_capacity: bool
    release_no_shows: bool
    no_show_grace_minutes: int
    check_in_radius_m: int | None
    visibility: str = Field(description="public, school, members or unlisted.")
    organization_id: int | None = Field(description="The hosting organization, if any.")
    access_features: list[str] = Field(
        description="Accessibility the organizer arranged: " + ", ".join(AccessFeature.values)
    )
    allergens: str = Field(description="Allergens in the food served (with `food`).")
    access_contact: str = Field(description="Who to ask about access or accommodations.")

    @staticmethod
    def resolve_url(event: EventPost) -> str:
        return urljoin(settings.SITE_URL, event.get_absolute_url())

    @staticmethod
    def resolve_image(event: EventPost) -> dict | None:
        if not event.image_small:
            return None
        return {
            "large": urljoin(settings.SITE_URL, event.image_large.url),
            "medium": urljoin(settings.SITE_URL, event.image_medium.url),
            "small": urljoin(settings.SITE_URL, event.image_small.url),
            "alt": event.image_alt,
        }


class HighlightOut(Schema):
    text: str
    match: bool


def _highlights(text: str | None) -> list[dict] | None:
    if text is None:
        return None
    return [{"text": piece, "match": match} for piece, match in highlight_segments(text)]


class SearchHitOut(EventOut):
    rank: float | None = None
    distance_km: float | None = None
    # With a query: the title and a description snippet as pieces, `match` marking the hits.
    headline_title: list[HighlightOut] | None = None
    headline_description: list[HighlightOut] | None = None

    @staticmethod
    def resolve_headline_title(event: EventPost) -> list[dict] | None:
        return _highlights(getattr(event, "headline_title", None))

    @staticmethod
    def resolve_headline_description(event: EventPost) -> list[dict] | None:
        return _highlights(getattr(event, "headline_description", None))


class FacetOut(Schema):
    slug: str
    name: str
    count: int


class WayOutOut(Schema):
    label: str
    # The same search with one change; `url` is this API's address for it.
    params: dict[str, list[str]]
    url: str


class EventPageOut(Schema):
    count: int
    # True: `count` is a lower bound ("200+"); only the first `count` matches are paged.
    count_is_capped: bool
    page: int
    num_pages: int
    page_size: int
    has_next: bool
    results: list[SearchHitOut]
    facets: list[FacetOut]
    did_you_mean: str | None
    # Set when the typed query had typos and these are the results of this corrected one;
    # `exact=1` searches the words as typed.
    corrected_query: str | None
    # Only when nothing matches: the same search with one filter less, wider, or browsing.
    ways_out: list[WayOutOut]
    needs_first: bool = Field(
        description="True: events offering every access need the signed-in student saved come "
        "first, each group in the usual order (`needs_first=0` turns this off)."
    )


class RegistrationIn(InputSchema):
    guests: int = Field(0, ge=0, le=GUESTS_MAX, description="Guests, up to the event's guests_max.")
    answers: dict[str, str] = Field(
        default_factory=dict,
        description="The answers to the event's `questions`, keyed by question id: text, one of "
        "a choice question's `choices`, or `yes`/`no`.",
    )


class QuestionOut(Schema):
    id: int
    label: str
    kind: str = Field(description="text | choice | yes_no")
    choices: list[str]
    required: bool


class QuestionIn(InputSchema):
    label: str = Field("", max_length=200)
    kind: str = Field("text", description="text | choice | yes_no")
    choices: list[str] = Field(default_factory=list, max_length=20)
    required: bool = False
    preset: str = Field(
        "", description="dietary | accessibility | tshirt: a common question (other fields unused)."
    )


class EventDetailOut(EventOut):
    questions: list[QuestionOut] = Field(description="Asked at registration, in order.")
    join_url: str | None = Field(
        None,
        description="Online and hybrid events: the join link, only for students with a "
        "confirmed seat and the event's organizers; null for everyone else.",
    )

    @staticmethod
    def resolve_questions(event: EventPost) -> list[EventQuestion]:
        return selectors.question_list(event_id=event.pk)

    @staticmethod
    def resolve_join_url(event: EventPost) -> str | None:
        # Set by the view from selectors.join_url_for, the one gate for the link.
        return getattr(event, "visible_join_url", None) or None


def _with_join_url(event: EventPost, user) -> EventPost:
    event.visible_join_url = selectors.join_url_for(event=event, user=user)  # type: ignore[attr-defined]
    return event


class RegistrationOut(Schema):
    event_id: int
    status: str
    guests: int
    waitlist_position: int | None
    registered_at: datetime
    checked_in_at: datetime | None


class MyRegistrationOut(RegistrationOut):
    event: EventOut
    may_cancel: bool
    ticket_available: bool
    join_url: str | None = Field(None, description="The join link, for a confirmed seat.")


def _registration_in(request: HttpRequest) -> RegistrationIn:
    """The optional JSON body of a registration; none (or a form post) means no extras."""
    if request.content_type != "application/json" or not request.body.strip():
        return RegistrationIn.model_validate({})
    try:
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise TypeError("not an object")
        return RegistrationIn.model_validate(data)
    except (ValueError, TypeError) as error:
        fields: dict[str, list[str]] = {}
        if isinstance(error, ValidationError):
            for problem in error.errors():
                name = ".".join(str(part) for part in problem["loc"]) or "__all__"
                fields.setdefault(name, []).append(problem["msg"])
        else:
            fields["__all__"] = ["Send a JSON object."]
        raise services.EventInvalid(fields) from error


def _registration_out(registration: EventRegistration) -> dict:
    return {
        "event_id": registration.event_id,
        "status": registration.status,
        "guests": registration.guests,
        "waitlist_position": selectors.registration_waitlist_position(registration=registration),
        "registered_at": registration.registered_at,
        "checked_in_at": registration.checked_in_at,
    }


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
        "(relevance|start|distance), `past=1` to include ended events, `attendance` "
        "(online|in_person; hybrid events match both), `drop_in=1` for events that need no "
        "registration, `access` (repeatable: only events offering every feature given, of "
        + ", ".join(AccessFeature.values)
        + "), `exact=1` for no typo correction, `needs_first=0` to not list events meeting "
        "the signed-in student's saved access needs first, `page`, `page_size`. "
        "A page past the last one answers 404 with the last page's number."
    ),
)
def event_list(
    request: HttpRequest,
    page: int = Query(1, ge=1, le=MAX_PAGE_NUMBER),
    page_size: int = Query(20, ge=1, le=MAX_PAGE_SIZE),
):
    params = searcher_needs(
        replace(
            parse_search_params(request.GET),
            visibilities=permissions.listable_visibilities(request.user),
        ),
        request.user,
    )
    results = event_search(params, page=page, page_size=page_size)
    if results.is_past_end and page > 1:
        raise PageOutOfRange(page=page, last_page=results.num_pages, capped=results.total_is_capped)
    ways_out = []
    if not results.events:
        names = {facet.slug: facet.name for facet in results.facets}
        ways_out = [
            {"label": way.label, "params": way.query, "url": request.path + way.query_string()}
            for way in search_ways_out(request.GET, params, category_names=names)
        ]
    page_out = {
        "count": results.total,
        "count_is_capped": results.total_is_capped,
        "page": page,
        "num_pages": results.num_pages,
        "page_size": page_size,
        "has_next": results.has_next(),
        "results": [_search_hit(event) for event in results.events],
        "facets": [
            {"slug": slug, "name": name, "count": count} for slug, name, count in results.facets
        ],
        "did_you_mean": results.did_you_mean,
        "corrected_query": results.corrected_query,
        "ways_out": ways_out,
        "needs_first": bool(params.needs),
    }
    # Built as plain data and encoded as ninja would (tests/events/test_search_help.py checks
    # it against EventPageOut): validating 20 hits through the schema was ~40% of the
    # request (docs/BENCHMARKS.md, search profile).
    return HttpResponse(
        json.dumps(page_out, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8"
    )


# EventOut's fields read from the event, and those it computes (resolve_<name>), as ninja
# would: a field added to EventOut with a resolver is served here without more code.
_EVENT_OUT_RESOLVED = {
    name: getattr(EventOut, f"resolve_{name}")
    for name in EventOut.model_fields
    if hasattr(EventOut, f"resolve_{name}")
}
_EVENT_OUT_FIELDS = [
    name for name in EventOut.model_fields if name not in _EVENT_OUT_RESOLVED and name != "category"
]


def _search_hit(event: EventPost) -> dict:
    """SearchHitOut of one event as plain data."""
    hit = {name: getattr(event, name) for name in _EVENT_OUT_FIELDS}
    for name, resolve in _EVENT_OUT_RESOLVED.items():
        hit[name] = resolve(event)
    category = event.category
    hit["category"] = {
        "slug": category.slug,
        "name": category.name,
        "description": category.description,
    }
    hit["rank"] = getattr(event, "rank", None)
    hit["distance_km"] = getattr(event, "distance_km", None)
    hit["headline_title"] = _highlights(getattr(event, "headline_title", None))
    hit["headline_description"] = _highlights(getattr(event, "headline_description", None))
    return hit


@router.get(
    "/events/{event_id}", response={200: EventDetailOut, 404: ErrorOut}, summary="One event"
)
def event_detail(request: HttpRequest, event_id: int):
    # Drafts answer 404 except to their organizer and staff, as on the pages.
    event = permissions.event_get_authorized(
        event_id=event_id, user=request.user, action=permissions.Action.VIEW
    )
    return _with_join_url(event, request.user)


@router.post(
    "/events/{event_id}/registration",
    response={201: RegistrationOut, **ERRORS},
    auth=django_auth,
    summary="Register (or join the waitlist)",
    description="Idempotent: registering again returns the existing registration. The JSON "
    "body is optional: `guests` (seats for guests, up to the event's `guests_max`) and "
    "`answers` (to the event's `questions`, by id; required ones must be answered, else 422).",
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": RegistrationIn.model_json_schema()}},
        }
    },
)
def registration_create(request: ApiRequest, event_id: int):
    data = _registration_in(request)
    registration = services.registration_create(
        event_id=event_id, user=request.auth, guests=data.guests, answers=data.answers
    )
    return Status(201, _registration_out(registration))


@router.delete(
    "/events/{event_id}/registration",
    response={204: None, **ERRORS},
    auth=django_auth,
    summary="Cancel my registration",
)
def registration_cancel(request: ApiRequest, event_id: int):
    services.registration_cancel(event_id=event_id, user=request.auth)
    return Status(204, None)


@me_router.get(
    "/registrations",
    response={200: list[MyRegistrationOut], 401: ErrorOut},
    summary="My registrations, soonest first",
)
def my_registrations(request: ApiRequest):
    registrations = selectors.registration_list_for_user(user=request.auth)
    return [
        {
            "event_id": registration.event_id,
            "status": registration.status,
            "guests": registration.guests,
            # Annotated by the selector in the same query.
            "waitlist_position": registration.waitlist_position,  # type: ignore[attr-defined]
            "registered_at": registration.registered_at,
            "checked_in_at": registration.checked_in_at,
            "event": registration.event,
            "may_cancel": registration.may_cancel,
            "ticket_available": registration.ticket_available,
            "join_url": selectors.join_url_for_registration(registration) or None,
        }
        for registration in registrations
    ]


class RecommendationOut(Schema):
    event: EventOut
    reason: str = Field(description="Why it was picked, in one line.")
    kind: str = Field(
        description="history | follow | new_category | peers | place | time | popular | soon"
    )
    meets_access_needs: bool = Field(description="It offers every access need you saved.")


@me_router.get(
    "/recommendations",
    response={200: list[RecommendationOut], 401: ErrorOut},
    summary="Upcoming events picked for me, each with its reason",
    description="Ranked from what you attended, registered for and follow, what students "
    "like you registered for, and what is popular; events you hid are left out. Cached for "
    f"up to {recommendations.CACHE_SECONDS // 60} minutes.",
)
def my_recommendations(request: ApiRequest, limit: int = Query(10, ge=1, le=10)):
    return recommendations.recommendations_for(user=request.auth, limit=limit)


@me_router.post(
    "/recommendations/{event_id}/not-interested",
    response={204: None, **ERRORS},
    summary="Hide an event from my picks (similar events come up less)",
)
def recommendation_dismiss(request: ApiRequest, event_id: int):
    services.recommendation_dismiss(event_id=event_id, user=request.auth)
    return Status(204, None)


@me_router.delete(
    "/recommendations/{event_id}/not-interested",
    response={204: None, **ERRORS},
    summary="Undo: the event may be picked for me again",
)
def recommendation_undismiss(request: ApiRequest, event_id: int):
    services.recommendation_undismiss(event_id=event_id, user=request.auth)
    return Status(204, None)


# --- Organizer endpoints: the same services and permissions as the organizer pages ----------


class SeriesIn(InputSchema):
    rule: EventSeries.Rule
    weekdays: list[int] = Field(
        default_factory=list, max_length=7, description="weekly: Monday = 0 … Sunday = 6."
    )
    until: date | None = Field(None, description="weekly: the last date (inclusive).")
    dates: list[date] = Field(
        default_factory=list,
        max_length=services.SERIES_OCCURRENCES_MAX + 1,
        description="dates: the days it happens on.",
    )


class EventIn(InputSchema):
    title: str = Field(max_length=200)
    category: str = Field(description="A category slug.", max_length=80)
    starts_at: datetime = Field(description="With a UTC offset; naive times are Central time.")
    ends_at: datetime
    location_name: str = Field(max_length=200)
    address: str = Field("", max_length=300)
    description: str = Field("", max_length=services.DESCRIPTION_MAX_LENGTH)
    capacity: int | None = Field(
        None, ge=1, le=services.CAPACITY_MAX, description="Omit or null for unlimited."
    )
    walk_ins_beyond_capacity: bool = Field(
        False, description="Walk-ins are checked in even when every seat is taken."
    )
    release_no_shows: bool = Field(
        False,
        description="At the start plus the grace, seats of students not checked in go to the "
        "waitlist.",
    )
    no_show_grace_minutes: int = Field(
        NO_SHOW_GRACE_DEFAULT_MINUTES, ge=0, le=NO_SHOW_GRACE_MAX_MINUTES
    )
    check_in_radius_m: int | None = Field(
        None,
        ge=CHECK_IN_RADIUS_MIN_M,
        le=CHECK_IN_RADIUS_MAX_M,
        description="Self check-in only within this many metres of the event's place.",
    )
    visibility: EventPost.Visibility = Field(
        EventPost.Visibility.PUBLIC,
        description="public, school (school accounts only), members (the host's members "
        "only) or unlisted (only with the link).",
    )
    organization: str | None = Field(
        None,
        max_length=80,
        description="Slug of an organization you may create events for: it hosts the event.",
    )
    registration_required: bool = Field(
        True, description="False for drop-in events: no registration, check-in still counts."
    )
    registration_opens_at: datetime | None = Field(None, description="null: when published.")
    registration_closes_at: datetime | None = Field(
        None, description="null: at the start; at the latest the end."
    )
    cancellation_deadline: datetime | None = Field(
        None, description="null: while registration is open."
    )
    guests_max: int = Field(0, ge=0, le=GUESTS_MAX, description="Guests per registration.")
    mode: EventPost.Mode = Field(
        EventPost.Mode.IN_PERSON, description="in_person | online | hybrid"
    )
    join_url: str = Field(
        "", max_length=500, description="https link; shown only to confirmed registrants."
    )
    access_features: list[AccessFeature] = Field(
        default_factory=list,
        max_length=len(AccessFeature.values),
        description="Accessibility you arranged: "
        + ", ".join(AccessFeature.values)
        + " (food needs `allergens`).",
    )
    allergens: str = Field("", max_length=ALLERGENS_MAX_LENGTH)
    access_contact: str = Field("", max_length=ACCESS_CONTACT_MAX_LENGTH)
    repeat: SeriesIn | None = Field(
        None,
        description="Make a recurring series: one draft per occurrence (at most "
        f"{services.SERIES_OCCURRENCES_MAX}) at the time of day of `starts_at`; the answer is "
        "the first.",
    )


class EventPatch(InputSchema):
    title: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=80)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location_name: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=services.DESCRIPTION_MAX_LENGTH)
    capacity: int | None = Field(
        None, ge=1, le=services.CAPACITY_MAX, description="null for unlimited."
    )
    walk_ins_beyond_capacity: bool | None = None
    release_no_shows: bool | None = None
    no_show_grace_minutes: int | None = Field(None, ge=0, le=NO_SHOW_GRACE_MAX_MINUTES)
    check_in_radius_m: int | None = Field(
        None, ge=CHECK_IN_RADIUS_MIN_M, le=CHECK_IN_RADIUS_MAX_M, description="null for none."
    )
    visibility: EventPost.Visibility | None = None
    organization: str | None = Field(
        None, max_length=80, description="An organization's slug; null: no organization."
    )
    registration_required: bool | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    cancellation_deadline: datetime | None = None
    guests_max: int | None = Field(None, ge=0, le=GUESTS_MAX)
    mode: EventPost.Mode | None = None
    join_url: str | None = Field(None, max_length=500)
    access_features: list[AccessFeature] | None = Field(
        None, max_length=len(AccessFeature.values), description="The whole list; [] for none."
    )
    allergens: str | None = Field(None, max_length=ALLERGENS_MAX_LENGTH)
    access_contact: str | None = Field(None, max_length=ACCESS_CONTACT_MAX_LENGTH)


class CancelIn(InputSchema):
    reason: str = Field(max_length=services.CANCELLATION_REASON_MAX_LENGTH)


class RosterEntryOut(Schema):
    registration_id: int
    name: str
    email: str
    status: str
    guests: int
    registered_at: datetime
    checked_in_at: datetime | None


class AnswerOut(Schema):
    question_id: int
    question: str
    value: str


class RosterRegistrationOut(RosterEntryOut):
    answers: list[AnswerOut]


class RosterOut(Schema):
    event_id: int
    confirmed: list[RosterRegistrationOut]
    waitlisted: list[RosterRegistrationOut]
    cancelled: list[RosterRegistrationOut]
    checked_in_count: int


class CheckInIn(InputSchema):
    token: str = Field(max_length=500)


class CheckInOut(Schema):
    registration_id: int
    event_id: int
    name: str
    checked_in_at: datetime
    already_checked_in: bool
    walk_in: bool


class CheckInCountsOut(Schema):
    checked_in: int
    confirmed: int
    waitlisted: int
    capacity: int | None


class DoorEntryOut(RosterEntryOut):
    walk_in: bool
    released_at: datetime | None


class CheckInListOut(Schema):
    counts: CheckInCountsOut
    results: list[DoorEntryOut]


class DoorCheckInIn(Schema):
    registration_id: int | None = Field(
        None, ge=1, description="Someone on the roster (a tap at the door)."
    )
    email: str | None = Field(
        None,
        max_length=254,
        description="A walk-in's school e-mail: seated and checked in, registered or not.",
    )


class UndoOut(Schema):
    registration_id: int
    event_id: int
    name: str
    undone: bool


class CodeOut(Schema):
    code: str
    expires_at: datetime
    url: str
    qr_svg: str = Field(description="The QR code of `url`, as SVG.")
    period_seconds: int


class CodeIn(Schema):
    code: str = Field(max_length=20, description="The six characters on the screen at the door.")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)


# Attendance settings a PATCH may leave out but not set to null.
_NOT_NULL_SETTINGS = (
    "walk_ins_beyond_capacity",
    "release_no_shows",
    "no_show_grace_minutes",
    "registration_required",
    "guests_max",
    "mode",
)
_TIME_FIELDS = (
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "cancellation_deadline",
)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment)
    return moment


def _event_fields(data: dict) -> dict:
    fields = dict(data)
    if "category" in fields:
        category = EventCategory.objects.filter(slug=fields["category"]).first()
        if category is None:
            raise services.EventInvalid({"category": ["Unknown category."]})
        fields["category"] = category
    if fields.get("organization"):
        organization = Organization.objects.filter(slug=fields["organization"]).first()
        if organization is None:
            raise services.EventInvalid({"organization": ["Unknown organization."]})
        fields["organization"] = organization
    for name in _TIME_FIELDS:
        if name in fields:
            fields[name] = _aware(fields[name])
    for name in ("title", "location_name", "visibility", *_NOT_NULL_SETTINGS):
        if name in fields and fields[name] is None:
            raise services.EventInvalid({name: ["This field cannot be null."]})
    for name in ("address", "description", "join_url", "allergens", "access_contact"):
        if name in fields and fields[name] is None:
            fields[name] = ""
    if "access_features" in fields:
        fields["access_features"] = [str(value) for value in fields["access_features"] or []]
    return fields


def _roster_entry(registration: EventRegistration) -> dict:
    return {
        "registration_id": registration.pk,
        "name": registration.user.get_full_name(),
        "email": registration.user.email,
        "status": registration.status,
        "guests": registration.guests,
        "registered_at": registration.registered_at,
        "checked_in_at": registration.checked_in_at,
    }


def _roster_registration(registration: EventRegistration) -> dict:
    return {
        **_roster_entry(registration),
        "answers": [
            {"question_id": a.question_id, "question": a.question.label, "value": a.value}
            for a in registration.answers.all()
        ],
    }


def _check_in_out(outcome: services.CheckInOutcome) -> dict:
    registration = outcome.registration
    return {
        "registration_id": registration.pk,
        "event_id": registration.event_id,
        "name": registration.user.get_full_name(),
        "checked_in_at": registration.checked_in_at,
        "already_checked_in": not outcome.changed,
        "walk_in": registration.walk_in,
    }


@router.post(
    "/events",
    response={201: EventDetailOut, **ERRORS},
    auth=django_auth,
    summary="Create an event (organizers), saved as a draft",
)
def event_create(request: ApiRequest, payload: EventIn):
    fields = _event_fields(payload.dict(exclude={"repeat"}))
    if payload.repeat is None:
        event = services.event_create(organizer=request.auth, **fields)
    else:
        event = services.series_create(organizer=request.auth, **payload.repeat.dict(), **fields)[0]
    return Status(201, _with_join_url(event, request.auth))


@router.patch(
    "/events/{event_id}",
    response={200: EventDetailOut, **ERRORS},
    auth=django_auth,
    summary="Change an event (its organizer or staff); only the fields sent change",
)
def event_update(
    request: ApiRequest,
    event_id: int,
    payload: EventPatch,
    following: bool = Query(False, description="Also the following events of its series."),
):
    changes = _event_fields(payload.dict(exclude_unset=True))
    update = services.series_update_following if following else services.event_update
    event = update(event_id=event_id, by=request.auth, **changes)
    return _with_join_url(event, request.auth)


@router.post(
    "/events/{event_id}/publish",
    response={200: EventOut, **ERRORS},
    auth=django_auth,
    summary="Publish a draft",
)
def event_publish(
    request: ApiRequest,
    event_id: int,
    following: bool = Query(False, description="Also the following drafts of its series."),
):
    publish = services.series_publish_following if following else services.event_publish
    return publish(event_id=event_id, by=request.auth)


@router.post(
    "/events/{event_id}/cancel",
    response={200: EventOut, **ERRORS},
    auth=django_auth,
    summary="Cancel an event; registered students get an e-mail with the reason",
)
def event_cancel(request: ApiRequest, event_id: int, payload: CancelIn):
    return services.event_cancel(event_id=event_id, by=request.auth, reason=payload.reason)


class DuplicateIn(InputSchema):
    starts_at: datetime = Field(description="The copy's start; every other time moves as much.")


@router.post(
    "/events/{event_id}/duplicate",
    response={201: EventDetailOut, **ERRORS},
    auth=django_auth,
    summary="Copy an event as a new draft starting at another time (organizers)",
    description="The end, registration window and cancellation deadline move by the same "
    "amount; the questions are copied, registrations are not.",
)
def event_duplicate(request: ApiRequest, event_id: int, payload: DuplicateIn):
    starts_at = payload.starts_at
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    copy = services.event_duplicate(event_id=event_id, by=request.auth, starts_at=starts_at)
    return Status(201, _with_join_url(copy, request.auth))


@router.post(
    "/events/{event_id}/image",
    response={200: EventDetailOut, **ERRORS},
    auth=django_auth,
    summary="Upload the cover image (organizers), multipart with its alt text",
    description="JPEG, PNG, WebP or GIF, checked by content, up to 5 MB; stored in three "
    "widths without metadata. Anything else (SVG, empty, too large, not a picture) is 422.",
)
def event_image_upload(
    request: ApiRequest,
    event_id: int,
    image: File[UploadedFile],
    alt: Form[str],
    following: Form[bool] = False,
):
    event = services.event_image_set(
        event_id=event_id,
        by=request.auth,
        data=image.read(IMAGE_MAX_BYTES + 1),
        alt=alt,
        following=following,
    )
    return _with_join_url(event, request.auth)


@router.delete(
    "/events/{event_id}/image",
    response={200: EventDetailOut, **ERRORS},
    auth=django_auth,
    summary="Remove the cover image (organizers)",
)
def event_image_delete(request: ApiRequest, event_id: int):
    event = services.event_image_remove(event_id=event_id, by=request.auth)
    return _with_join_url(event, request.auth)


@router.post(
    "/events/{event_id}/questions",
    response={201: QuestionOut, **ERRORS},
    auth=django_auth,
    summary="Add a registration question, or a preset (organizers)",
)
def question_create(request: ApiRequest, event_id: int, payload: QuestionIn):
    question = services.question_add(event_id=event_id, by=request.auth, **payload.dict())
    return Status(201, question)


@router.delete(
    "/events/{event_id}/questions/{question_id}",
    response={204: None, **ERRORS},
    auth=django_auth,
    summary="Remove a registration question and its answers (organizers)",
)
def question_remove(request: ApiRequest, event_id: int, question_id: int):
    services.question_delete(event_id=event_id, question_id=question_id, by=request.auth)
    return Status(204, None)


@router.get(
    "/events/{event_id}/roster",
    response={200: RosterOut, **ERRORS},
    auth=django_auth,
    summary="Who registered: confirmed, waitlisted, cancelled",
)
def event_roster(request: ApiRequest, event_id: int):
    event = permissions.event_get_authorized(
        event_id=event_id, user=request.auth, action=permissions.Action.ROSTER
    )
    roster = selectors.roster_for_event(event=event)
    return {
        "event_id": event.pk,
        "confirmed": [_roster_registration(r) for r in roster["confirmed"]],
        "waitlisted": [_roster_registration(r) for r in roster["waitlisted"]],
        "cancelled": [_roster_registration(r) for r in roster["cancelled"]],
        "checked_in_count": len(roster["checked_in"]),
    }


@router.post(
    "/checkins",
    response={200: CheckInOut, **ERRORS},
    auth=django_auth,
    summary="Check a student in with the token of their ticket's QR code",
    description="Checking in twice is harmless: the second answer says `already_checked_in`.",
)
def checkin_create(request: ApiRequest, payload: CheckInIn):
    outcome = services.registration_check_in_by_ticket(token=payload.token, by=request.auth)
    return _check_in_out(outcome)


# --- Check-in at the door and by event code -----------------------------------------------


def _door_entry(registration: EventRegistration) -> dict:
    return {
        **_roster_entry(registration),
        "walk_in": registration.walk_in,
        "released_at": registration.released_at,
    }


def _registration_of_event(*, event_id: int, registration_id: int) -> None:
    # The path names the event: a registration of another event is not found here.
    if selectors.registration_event_id(registration_id=registration_id) != event_id:
        raise services.NotRegistered("There is no such registration for this event.")


@router.get(
    "/events/{event_id}/checkins",
    response={200: CheckInListOut, **ERRORS},
    auth=django_auth,
    summary="Door check-in: live counts and the roster search (organizers)",
    description="`q` searches the roster by name or e-mail; without it, the latest check-ins.",
)
def checkin_list(request: ApiRequest, event_id: int, q: str = Query("", max_length=100)):
    event = permissions.event_get_authorized(
        event_id=event_id, user=request.auth, action=permissions.Action.CHECK_IN
    )
    query = q.strip()
    results = (
        selectors.roster_search(event=event, query=query)
        if query
        else selectors.check_ins_latest(event=event, limit=selectors.DOOR_SEARCH_LIMIT)
    )
    return {
        "counts": selectors.check_in_counts(event_id=event.pk),
        "results": [_door_entry(registration) for registration in results],
    }


@router.get(
    "/events/{event_id}/checkins/counts",
    response={200: CheckInCountsOut, **ERRORS},
    auth=django_auth,
    summary="Checked in / confirmed / waitlisted, a few seconds fresh (organizers)",
    description="What the organizer's pages poll every few seconds; cached for "
    f"{selectors.CHECK_IN_COUNTS_CACHE_SECONDS} seconds.",
)
def checkin_counts(request: ApiRequest, event_id: int):
    permissions.event_get_authorized(
        event_id=event_id, user=request.auth, action=permissions.Action.CHECK_IN
    )
    return selectors.check_in_counts(event_id=event_id)


@router.post(
    "/events/{event_id}/checkins",
    response={200: CheckInOut, **ERRORS},
    auth=django_auth,
    summary="Check a student in at the door, or add a walk-in (organizers)",
    description="Send `registration_id` (someone on the roster) or `email` (a walk-in with a "
    "school account, seated within the capacity, or beyond it when the event allows). "
    "Checking in twice is harmless: the second answer says `already_checked_in`.",
)
def checkin_door(request: ApiRequest, event_id: int, payload: DoorCheckInIn):
    if (payload.registration_id is None) == (payload.email is None):
        raise services.EventInvalid(
            {"__all__": ["Send either registration_id or email, not both."]}
        )
    if payload.registration_id is None:
        outcome = services.walk_in_check_in(
            event_id=event_id, email=payload.email or "", by=request.auth
        )
    else:
        registration_id = payload.registration_id
        permissions.event_get_authorized(
            event_id=event_id, user=request.auth, action=permissions.Action.CHECK_IN
        )
        _registration_of_event(event_id=event_id, registration_id=registration_id)
        outcome = services.registration_check_in(registration_id=registration_id, by=request.auth)
    return _check_in_out(outcome)


@router.delete(
    "/events/{event_id}/checkins/{registration_id}",
    response={200: UndoOut, **ERRORS},
    auth=django_auth,
    summary="Undo a check-in while check-in is open (organizers)",
    description="Recorded with who undid it; the E-score award is reversed in the ledger.",
)
def checkin_undo(request: ApiRequest, event_id: int, registration_id: int):
    permissions.event_get_authorized(
        event_id=event_id, user=request.auth, action=permissions.Action.CHECK_IN
    )
    _registration_of_event(event_id=event_id, registration_id=registration_id)
    outcome = services.registration_check_in_undo(registration_id=registration_id, by=request.auth)
    return {
        "registration_id": outcome.registration.pk,
        "event_id": outcome.registration.event_id,
        "name": outcome.registration.user.get_full_name(),
        "undone": outcome.changed,
    }


@router.get(
    "/events/{event_id}/code",
    response={200: CodeOut, **ERRORS},
    auth=django_auth,
    summary="The event code to show at the door now (organizers)",
    description="Six characters, new every 30 seconds, accepted for up to 60; only while "
    "check-in is open (409 `check_in_closed` otherwise).",
)
def code_show(request: ApiRequest, event_id: int):
    code = services.check_in_code_show(event_id=event_id, by=request.auth)
    url = request.build_absolute_uri(code.path)
    return {
        "code": code.code,
        "expires_at": code.expires_at,
        "url": url,
        "qr_svg": ticket_qr_svg(url),
        "period_seconds": check_in_codes.PERIOD_SECONDS,
    }


@router.post(
    "/events/{event_id}/code",
    response={200: CheckInOut, **ERRORS},
    auth=django_auth,
    summary="Check myself in with the code on the screen at the door",
    description="Once per account: again answers `already_checked_in`. Expired, forged and "
    "other events' codes answer 422 (`code_expired`, `code_invalid`, `code_other_event`). "
    "When the event checks the location, send the phone's `latitude`/`longitude` (never "
    "stored).",
)
def code_present(request: ApiRequest, event_id: int, payload: CodeIn):
    position = None
    if payload.latitude is not None and payload.longitude is not None:
        position = services.Position(
            latitude=payload.latitude, longitude=payload.longitude, accuracy_m=payload.accuracy_m
        )
    outcome = services.check_in_by_code(
        user=request.auth, code=payload.code, event_id=event_id, position=position
    )
    return _check_in_out(outcome)
