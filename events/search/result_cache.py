"""A short-lived cache of what a search computed, keyed by its normalised parameters.

A search's SQL (plan facts, the capped candidates, ranking, facets, headlines, and for a
query with few matches the typo correction) is most of a search request's time, and
students repeat each other's queries. So event_search keeps, per normalised parameters,
page and page size, what it computed for that page: the page's event ids in order with
their rank, distance and headlines, the total, facets and spelling help. It never keeps the
event rows: a hit reads the page's rows by primary key (one statement), so seats left, a
changed title or a cover image show as they are now.

Freshness: every entry carries the results generation it was computed under, and any
change to an event, a category or a campus synonym bumps the generation (at once, and
again when its transaction commits, so a search running meanwhile cannot store the old
answer under the new generation). An entry whose generation is not the current one is a
miss, so an edited, cancelled or new event shows in the next search. The one thing an entry
does not follow is the clock: an event that ends while an entry holds it stays listed for
at most SEARCH_RESULT_CACHE_SECONDS (30 s by default).

Redis is a cache, never the only copy: when it is down every search is computed, as before.
One round trip per lookup: the generation and the entry are read with one MGET.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from events.models import EventCategory, EventPost, SearchSynonym

from . import plan

if TYPE_CHECKING:
    from .params import SearchParams
    from .query import SearchResults

GENERATION_KEY = "search:results:generation"
GENERATION_SECONDS = 60 * 60 * 24
_ENTRY_KEY = "search:results:v1:{digest}"


@dataclass(frozen=True)
class PageHit:
    """What a search computed for one page, without the event rows."""

    # SearchResults with events=[]; the rows are read again on every hit.
    results: SearchResults
    # Per event of the page, in order: (id, rank, distance_km, headline_title,
    # headline_description).
    extras: tuple[tuple[int, Any, Any, Any, Any], ...]


def enabled() -> bool:
    return settings.SEARCH_RESULT_CACHE_SECONDS > 0


def entry_key(params: SearchParams, *, page: int, page_size: int) -> str:
    # SearchParams holds only strings, numbers, dates and tuples, so its repr is stable
    # across processes; the limits are in it so a test that lowers them gets its own entries.
    text = repr((params, page, page_size, plan.CANDIDATE_LIMIT, plan.WALK_WINDOW))
    return _ENTRY_KEY.format(digest=hashlib.blake2b(text.encode(), digest_size=16).hexdigest())


def lookup(key: str) -> tuple[PageHit | None, int | None]:
    """The entry if it is current, and the generation to store a computed entry under.

    A generation of None means: do not store (Redis is down, or the generation was lost
    and has just been started again).
    """
    found = cache.get_many([GENERATION_KEY, key])
    generation = found.get(GENERATION_KEY)
    if generation is None:
        _generation_start()
        return None, None
    entry = found.get(key)
    if entry is not None and entry[0] == generation:
        return entry[1], generation
    return None, generation


def store(key: str, *, generation: int | None, hit: PageHit) -> None:
    if generation is not None:
        cache.set(key, (generation, hit), settings.SEARCH_RESULT_CACHE_SECONDS)


def _generation_start() -> None:
    # Started from the clock, not from 1: entries of a generation that expired or was
    # evicted can never match the new one.
    cache.add(GENERATION_KEY, time.time_ns() // 1000, GENERATION_SECONDS)


def results_generation_bump() -> None:
    """Every cached search result is stale from now on (fails open when Redis is down)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet: nothing is cached under one
        _generation_start()


def results_changed() -> None:
    """Something search reads changed: stale now, and again once the change is committed."""
    results_generation_bump()
    transaction.on_commit(results_generation_bump)


@receiver(post_save, sender=EventPost)
@receiver(post_delete, sender=EventPost)
@receiver(post_save, sender=EventCategory)
@receiver(post_delete, sender=EventCategory)
@receiver(post_save, sender=SearchSynonym)
@receiver(post_delete, sender=SearchSynonym)
def _search_input_changed(**kwargs) -> None:
    # Any save: a seat counter is updated with .update() and sends nothing, and hits read
    # the rows anyway; the saves that remain are edits, status changes and new events.
    results_changed()
