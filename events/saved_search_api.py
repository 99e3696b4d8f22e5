"""JSON API for saved searches: the same services as the pages (events.saved_search_views).

The feed's secret is kept only as its hash, so its URL is in the answers that make one
(creating the search, a new feed link) and nowhere else; `has_feed` says whether one works.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urljoin

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.security import django_auth
from pydantic import field_validator

from core.api import ERRORS, ErrorOut, InputSchema
from users.requests import ApiRequest

from .models import SavedSearch
from .services import saved_searches
from .services.saved_searches import SAVED_PARAMETERS

router = Router(tags=["saved searches"], auth=django_auth)
MAX_VALUES = 20


class SavedSearchIn(InputSchema):
    name: str = Field(max_length=100, description="Shown in the list and the calendar.")
    params: dict[str, str | list[str]] = Field(
        description="The search, as the query parameters of GET /api/v1/events; a saved "
        "search keeps " + ", ".join(SAVED_PARAMETERS) + " (others are refused)."
    )
    email_alerts: bool = Field(False, description="E-mail new matches, at most once a day.")

    @field_validator("params")
    @classmethod
    def _saved_parameters_only(cls, params: dict[str, str | list[str]]) -> dict[str, list[str]]:
        unknown = sorted(name for name in params if name not in SAVED_PARAMETERS)
        if unknown:
            raise ValueError(
                f"A saved search does not keep {', '.join(unknown)[:200]}; it keeps "
                f"{', '.join(SAVED_PARAMETERS)}."
            )
        values = {
            name: value if isinstance(value, list) else [value] for name, value in params.items()
        }
        if any(len(listed) > MAX_VALUES for listed in values.values()):
            raise ValueError(f"Give at most {MAX_VALUES} values for a parameter.")
        if any("\x00" in value for listed in values.values() for value in listed):
            raise ValueError("Text may not contain NUL (\\x00) characters.")
        return values


class EmailAlertsIn(InputSchema):
    email_alerts: bool = Field(description="E-mail new matches, at most once a day.")


class SavedSearchOut(Schema):
    id: int
    name: str
    params: dict[str, list[str]] = Field(description="The parameters kept.")
    search_url: str = Field(description="The search page with these parameters.")
    events_url: str = Field(description="GET /api/v1/events with these parameters.")
    email_alerts: bool
    has_feed: bool = Field(description="A calendar feed link works (made and not revoked).")
    feed_url: str | None = Field(
        None,
        description="The calendar feed: only in the answer that made it (its secret is not "
        "kept); null otherwise. Subscribe to it in a calendar app.",
    )
    last_alerted_at: datetime | None
    created_at: datetime


def _saved_search_out(saved: SavedSearch, *, token: str | None = None) -> dict:
    query = saved.query_string
    feed_url = None
    if token is not None:
        feed_url = urljoin(
            settings.SITE_URL, reverse("events:saved-search-feed", kwargs={"token": token})
        )
    return {
        "id": saved.pk,
        "name": saved.name,
        "params": saved.query,
        "search_url": urljoin(settings.SITE_URL, saved.get_absolute_url()),
        "events_url": urljoin(settings.SITE_URL, reverse("api-v1:event_list")) + f"?{query}",
        "email_alerts": saved.email_alerts,
        "has_feed": saved.has_feed,
        "feed_url": feed_url,
        "last_alerted_at": saved.last_alerted_at,
        "created_at": saved.created_at,
    }


@contextmanager
def _own_saved_search() -> Iterator[None]:
    """Another student's saved search answers like a missing one."""
    try:
        yield
    except SavedSearch.DoesNotExist as error:
        raise Http404("There is no such saved search.") from error


@router.get(
    "/searches",
    response={200: list[SavedSearchOut], 401: ErrorOut},
    summary="My saved searches, newest first",
)
def saved_search_list(request: ApiRequest):
    return [
        _saved_search_out(saved) for saved in saved_searches.saved_search_list(user=request.auth)
    ]


@router.post(
    "/searches",
    response={201: SavedSearchOut, **ERRORS},
    summary="Save a search; the answer has its calendar feed URL (shown only now)",
    description="422 for a search the search page refuses (naming the parameter) or no "
    f"name; 409 `too_many` past {SavedSearch.MAX_PER_USER} saved searches.",
)
def saved_search_create(request: ApiRequest, payload: SavedSearchIn):
    saved, token = saved_searches.saved_search_create(
        user=request.auth,
        name=payload.name,
        query=payload.params,
        email_alerts=payload.email_alerts,
    )
    return Status(201, _saved_search_out(saved, token=token))


@router.patch(
    "/searches/{saved_search_id}",
    response={200: SavedSearchOut, **ERRORS},
    summary="Turn the daily e-mail of new matches on or off",
)
def saved_search_email(request: ApiRequest, saved_search_id: int, payload: EmailAlertsIn):
    with _own_saved_search():
        saved = saved_searches.saved_search_email_set(
            saved_search_id=saved_search_id, user=request.auth, on=payload.email_alerts
        )
    return _saved_search_out(saved)


@router.delete(
    "/searches/{saved_search_id}",
    response={204: None, **ERRORS},
    summary="Delete a saved search and its calendar feed",
)
def saved_search_delete(request: ApiRequest, saved_search_id: int):
    with _own_saved_search():
        saved_searches.saved_search_delete(saved_search_id=saved_search_id, user=request.auth)
    return Status(204, None)


@router.post(
    "/searches/{saved_search_id}/feed",
    response={200: SavedSearchOut, **ERRORS},
    summary="A new calendar feed URL (shown only now); the old one answers 404 from now on",
)
def saved_search_feed_rotate(request: ApiRequest, saved_search_id: int):
    with _own_saved_search():
        token = saved_searches.saved_search_feed_rotate(
            saved_search_id=saved_search_id, user=request.auth
        )
        saved = saved_searches.saved_search_get(saved_search_id=saved_search_id, user=request.auth)
    return _saved_search_out(saved, token=token)


@router.delete(
    "/searches/{saved_search_id}/feed",
    response={204: None, **ERRORS},
    summary="Turn the calendar feed off: its URL answers 404 from now on",
)
def saved_search_feed_revoke(request: ApiRequest, saved_search_id: int):
    with _own_saved_search():
        saved_searches.saved_search_feed_revoke(saved_search_id=saved_search_id, user=request.auth)
    return Status(204, None)
