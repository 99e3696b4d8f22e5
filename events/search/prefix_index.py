"""Suggestions from Redis: a prefix → titles index rebuilt from PostgreSQL, never the only copy.

For every prefix (2 to PREFIX_MAX_LENGTH letters) of every word of the title of an upcoming
published event there is one sorted set of the soonest titles carrying it, scored by start
time, with the latest end among that title's events in the member, so an event that ended
since the build is left out when answering. A set keeps at most PREFIX_KEEP + 1 titles;
one more than PREFIX_KEEP says that it was cut.

A keystroke reads the sets of its typed words in one round trip and keeps titles in which
every typed word starts a word. When the answer could be incomplete (every set it read was
cut and it found fewer titles than asked), when the index has not been built, or when Redis
is down, event_suggest asks PostgreSQL as before.

Builds are whole: a new generation of keys is written, then `current` is pointed at it and
the previous generation expires a minute later, so a reader never sees half an index.
Every key has a TTL (DESIGN.md: volatile-lru must never evict the queues), longer than the
rebuild interval.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import uuid
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django_redis import get_redis_connection
from redis import Redis
from redis.exceptions import RedisError

from events.models import EventPost

logger = logging.getLogger(__name__)

PREFIX_MIN_LENGTH = 2
PREFIX_MAX_LENGTH = 16
PREFIX_KEEP = 32
KEY_SECONDS = 6 * 60 * 60
RETIRED_SECONDS = 60
# A rebuild every REBUILD_SECONDS at most while events change, and every STALE_SECONDS anyway.
REBUILD_SECONDS = 60
STALE_SECONDS = 10 * 60
_WORD = re.compile(r"[^\W_]+")
_SEPARATOR = "|"
DIRTY_KEY = "search:prefix-index:dirty"


def _root() -> str:
    # From the cache prefix, so a test (own prefix) or a second site never shares keys.
    return f"{settings.CACHES['default']['KEY_PREFIX']}:sugg"


def _client() -> Redis:
    return get_redis_connection("default")


def title_words(title: str) -> list[str]:
    return _WORD.findall(title.lower())


def prefix_index_rebuild(*, now: dt.datetime | None = None) -> int:
    """Build the index from upcoming published public events; returns the number of prefixes.

    Raises RedisError when Redis is down (the task retries; suggestions use PostgreSQL).
    """
    now = now or timezone.now()
    started = time.monotonic()
    titles: dict[str, tuple[float, float]] = {}  # title → (soonest start, latest end)
    events = (
        # Listed events only: members-only, school-only and unlisted titles are never
        # suggested (events.permissions.listable_visibilities), as in the PostgreSQL path.
        EventPost.objects.filter(
            status=EventPost.Status.PUBLISHED,
            ends_at__gt=now,
            visibility=EventPost.Visibility.PUBLIC,
        )
        .order_by("starts_at", "pk")
        .values_list("title", "starts_at", "ends_at")
    )
    for title, starts_at, ends_at in events.iterator(chunk_size=5000):
        start, end = starts_at.timestamp(), ends_at.timestamp()
        if title in titles:
            titles[title] = (titles[title][0], max(titles[title][1], end))
        else:
            titles[title] = (start, end)

    prefixes: dict[str, dict[str, float]] = {}
    for title, (start, end) in titles.items():  # soonest first: the first kept are the soonest
        member = f"{end:.0f}{_SEPARATOR}{title}"
        for word in set(title_words(title)):
            for length in range(PREFIX_MIN_LENGTH, min(len(word), PREFIX_MAX_LENGTH) + 1):
                kept = prefixes.setdefault(word[:length], {})
                if len(kept) <= PREFIX_KEEP:
                    kept[member] = start

    client = _client()
    root = _root()
    generation = uuid.uuid4().hex[:10]
    previous = cast(bytes | None, client.get(f"{root}:current"))
    pipe = client.pipeline(transaction=False)
    for index, (prefix, members) in enumerate(prefixes.items(), start=1):
        key = f"{root}:{generation}:{prefix}"
        pipe.zadd(key, members)
        pipe.expire(key, KEY_SECONDS)
        if index % 2000 == 0:
            pipe.execute()
    pipe.set(f"{root}:current", generation, ex=KEY_SECONDS)
    pipe.set(f"{root}:built-at", time.time(), ex=KEY_SECONDS)
    pipe.execute()
    if previous is not None:
        _generation_retire(client, f"{root}:{previous.decode()}:")
    logger.info(
        "search prefix index built",
        extra={
            "prefixes": len(prefixes),
            "titles": len(titles),
            "seconds": time.monotonic() - started,
        },
    )
    return len(prefixes)


def _generation_retire(client: Redis, key_start: str) -> None:
    """Let the previous generation expire in a minute: a reader that read `current` just
    before the switch still finds every key it asks for."""
    pipe = client.pipeline(transaction=False)
    for index, key in enumerate(client.scan_iter(match=f"{key_start}*", count=2000), start=1):
        pipe.expire(key, RETIRED_SECONDS)
        if index % 2000 == 0:
            pipe.execute()
    pipe.execute()


def prefix_index_mark_changed() -> None:
    """An event changed: the next periodic refresh rebuilds (fails open when Redis is down)."""
    cache.set(DIRTY_KEY, 1, STALE_SECONDS)


def prefix_index_refresh_due() -> bool:
    """Rebuild when events changed since the last build, or the build is old or missing."""
    try:
        built_at = cast(bytes | None, _client().get(f"{_root()}:built-at"))
    except RedisError:
        return False  # nothing to build into; the task runs again soon
    if built_at is None or time.time() - float(built_at) > STALE_SECONDS:
        return True
    return bool(cache.get(DIRTY_KEY))


def prefix_index_refresh() -> int | None:
    """The periodic task's work: rebuild if due; the number of prefixes, or None."""
    if not prefix_index_refresh_due():
        return None
    cache.delete(DIRTY_KEY)
    return prefix_index_rebuild()


def prefix_index_suggest(
    words: list[str], *, limit: int, now: dt.datetime | None = None
) -> list[str] | None:
    """Titles in start order whose words start with every typed word, or None to ask PostgreSQL.

    None when the index is missing, Redis is down, or the answer might be incomplete.
    """
    root = _root()
    now_seconds = (now or timezone.now()).timestamp()
    try:
        client = _client()
        generation = cast(bytes | None, client.get(f"{root}:current"))
        if generation is None:
            return None
        keys = [
            f"{root}:{generation.decode()}:{word[:PREFIX_MAX_LENGTH]}"
            for word in dict.fromkeys(words)
        ]
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.zrange(key, 0, -1)
        member_lists: list[list[bytes]] = pipe.execute()
    except RedisError:
        logger.warning("search prefix index unavailable; suggestions from PostgreSQL")
        return None
    # The shortest list holds every title that can match, unless it was cut.
    shortest = min(member_lists, key=len)
    found: list[str] = []
    for raw in shortest:
        end, _, title = raw.decode().partition(_SEPARATOR)
        if float(end) <= now_seconds:
            continue
        title_word_list = title_words(title)
        if all(any(part.startswith(word) for part in title_word_list) for word in words):
            found.append(title)
            if len(found) == limit:
                return found
    if len(shortest) > PREFIX_KEEP:
        return None  # cut: PostgreSQL knows whether more titles match
    return found


_INDEXED_FIELDS = frozenset({"title", "status", "starts_at", "ends_at", "visibility"})


@receiver(post_save, sender=EventPost)
@receiver(post_delete, sender=EventPost)
def _event_changed(*, update_fields=None, **kwargs) -> None:
    # Seat counters and the like are saved with update_fields and change no suggestion.
    if update_fields is None or _INDEXED_FIELDS & set(update_fields):
        prefix_index_mark_changed()
