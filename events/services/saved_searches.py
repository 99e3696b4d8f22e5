"""Saved searches: a search kept to run again, as a calendar feed and as a daily e-mail.

The feed URL's secret is `secrets.token_urlsafe(32)` (256 bits), shown to the student once
and stored only as its SHA-256: a database leak gives no working feed URL, and a lookup by
hash compares nothing in Python that a timing could reveal. Regenerating replaces the hash
(the old URL stops at once); revoking clears it. Unknown and revoked tokens are a 404.

Everything the feed and the e-mail show comes from `events.search.event_search` on the
stored query, parsed by the same `parse_search_params` as the page: published (and, in the
feed, cancelled) events of the listable visibilities only; never a draft, never members-only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from core.errors import UserError
from events import permissions
from events.models import EventPost, SavedSearch
from events.search import SearchParams, SearchParamsError, event_search, parse_search_params
from events.search.query import MAX_PAGE_SIZE
from users.models import User

__all__ = ["SearchParamsError"]  # re-exported for callers that catch it

# The search page's parameters a saved search keeps; paging and one-off flags are not kept.
SAVED_PARAMETERS = (
    "q",
    "category",
    "from",
    "to",
    "near",
    "lat",
    "lng",
    "radius_km",
    "attendance",
    "drop_in",
    "exact",
)
# The feed and the e-mail read at most this many matches (the search's own page cap).
FEED_MAX_EVENTS = MAX_PAGE_SIZE


class SavedSearchInvalid(UserError):
    code = "invalid"
    http_status = 422


class SavedSearchLimit(UserError):
    code = "too_many"
    http_status = 409


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def saved_query_from(data: Mapping) -> dict[str, list[str]]:
    """The saved parameters of a query string (a QueryDict or a mapping of lists)."""
    query: dict[str, list[str]] = {}
    for name in SAVED_PARAMETERS:
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])
        values = [str(value).strip()[:200] for value in values if str(value).strip()]
        if values:
            query[name] = values[:20]
    return query


def saved_search_params(saved: SavedSearch, *, include_cancelled: bool = False) -> SearchParams:
    """The saved query as the search page would read it, for what its owner may see listed.

    Raises SearchParamsError when the query no longer parses (a category was deleted).
    """
    params = parse_search_params(saved.query)
    return dataclasses.replace(
        params,
        sort="start",
        include_past=False,
        include_cancelled=include_cancelled,
        visibilities=permissions.listable_visibilities(saved.user),
    )


def saved_search_matches(saved: SavedSearch, *, include_cancelled: bool = False) -> list[EventPost]:
    """The soonest upcoming matches (at most FEED_MAX_EVENTS), in start order."""
    params = saved_search_params(saved, include_cancelled=include_cancelled)
    return event_search(params, page_size=FEED_MAX_EVENTS).events


@transaction.atomic
def saved_search_create(
    *, user: User, name: str, query: Mapping, email_alerts: bool = False
) -> tuple[SavedSearch, str]:
    """Save the search and open its feed; returns it with the feed's token (shown once).

    Raises SavedSearchInvalid (no name, or a query the search page refuses) or
    SavedSearchLimit (MAX_PER_USER saved already). The events that match now are marked as
    seen, so the first e-mail tells only of events new since.
    """
    name = " ".join(name.split())[:100]
    saved_query = saved_query_from(query)
    if not name:
        raise SavedSearchInvalid("Give the search a name.")
    if not saved_query:
        raise SavedSearchInvalid("Search for something (words, a category, dates or a place).")
    # Locks the student's row: two saves at once cannot both pass the limit.
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    if user.saved_searches.count() >= SavedSearch.MAX_PER_USER:
        raise SavedSearchLimit(
            f"You can keep {SavedSearch.MAX_PER_USER} saved searches. Delete one first."
        )
    saved = SavedSearch(user=user, name=name, query=saved_query, email_alerts=email_alerts)
    # Raises SearchParamsError (a UserError, 422) naming the bad parameter.
    matches = saved_search_matches(saved)
    saved.seen_event_ids = [event.pk for event in matches]
    token = secrets.token_urlsafe(32)
    saved.feed_token_hash = feed_token_hash(token)
    saved.save()
    return saved, token


def saved_search_list(*, user: User) -> list[SavedSearch]:
    """The student's saved searches, newest first."""
    return list(SavedSearch.objects.filter(user=user))


def saved_search_get(*, saved_search_id: int, user: User) -> SavedSearch:
    """One of the student's saved searches; SavedSearch.DoesNotExist for anyone else's."""
    saved = SavedSearch.objects.filter(pk=saved_search_id, user=user).first()
    if saved is None:
        raise SavedSearch.DoesNotExist("No such saved search.")
    return saved


def _owned(*, saved_search_id: int, user: User) -> SavedSearch:
    saved = SavedSearch.objects.select_for_update().filter(pk=saved_search_id, user=user).first()
    if saved is None:
        raise SavedSearch.DoesNotExist("No such saved search.")
    return saved


@transaction.atomic
def saved_search_feed_rotate(*, saved_search_id: int, user: User) -> str:
    """A new feed URL; the old one (if any) answers 404 from now on. Returns the token."""
    saved = _owned(saved_search_id=saved_search_id, user=user)
    token = secrets.token_urlsafe(32)
    saved.feed_token_hash = feed_token_hash(token)
    saved.save(update_fields=["feed_token_hash"])
    return token


@transaction.atomic
def saved_search_feed_revoke(*, saved_search_id: int, user: User) -> None:
    """Turn the feed off: its URL answers 404 from now on."""
    saved = _owned(saved_search_id=saved_search_id, user=user)
    saved.feed_token_hash = None
    saved.save(update_fields=["feed_token_hash"])


@transaction.atomic
def saved_search_email_set(*, saved_search_id: int, user: User, on: bool) -> SavedSearch:
    saved = _owned(saved_search_id=saved_search_id, user=user)
    if on and not saved.email_alerts:
        # From now on: what matches today is not news tomorrow.
        saved.seen_event_ids = [event.pk for event in saved_search_matches(saved)]
    saved.email_alerts = on
    saved.save(update_fields=["email_alerts", "seen_event_ids"])
    return saved


@transaction.atomic
def saved_search_delete(*, saved_search_id: int, user: User) -> None:
    _owned(saved_search_id=saved_search_id, user=user).delete()


def saved_search_for_feed(*, token: str) -> SavedSearch | None:
    """The saved search whose live feed this token opens; None when unknown or revoked."""
    if not token or len(token) > 100:
        return None
    return (
        SavedSearch.objects.select_related("user")
        .filter(feed_token_hash=feed_token_hash(token), user__is_active=True)
        .first()
    )


def saved_search_new_matches(saved: SavedSearch) -> list[EventPost]:
    """Upcoming published matches not yet told about (nor matching when it was saved)."""
    seen = set(saved.seen_event_ids)
    return [event for event in saved_search_matches(saved) if event.pk not in seen]


def saved_search_mark_seen(*, saved_search_id: int, event_ids: list[int]) -> None:
    """Remember these events as told about (the newest SEEN_EVENTS_KEPT are kept)."""
    with transaction.atomic():
        saved = SavedSearch.objects.select_for_update().filter(pk=saved_search_id).first()
        if saved is None:
            return
        seen = [pk for pk in saved.seen_event_ids if pk not in set(event_ids)] + event_ids
        saved.seen_event_ids = seen[-SavedSearch.SEEN_EVENTS_KEPT :]
        saved.last_alerted_at = timezone.now()
        saved.save(update_fields=["seen_event_ids", "last_alerted_at"])
