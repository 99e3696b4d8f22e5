"""Redis sorted sets behind the leaderboards: the only module that knows their keys.

Each scope ("all" for all time, or a term key such as "2026-fall") has two sorted sets of
user id → total points:

- `everyone`: every student with ledger entries in the scope, hidden ones included, so a
  hidden student can still be told their own rank and percentile;
- `listed`: only the students shown on the leaderboard (not hidden, active). Ranks are
  counted in this set: a hidden student's rank is where they would stand if listed.

Both are a cache of the ledger (`ScoreEntry`), never the only copy: writers store absolute
totals recomputed from the ledger (ZADD), so a replayed or reordered write heals itself, and
`replace()` rebuilds a scope from scratch. Each set holds a sentinel member at -inf, so
"the key exists" means "this scope was built": a scope that was never built, or that Redis
evicted, reads as `None` and callers fall back to the database and rebuild, instead of
showing a leaderboard that contains only the last student who scored.

Every key has a TTL (`ESCORE_LEADERBOARD_TTL`, days) that each write and each reconcile
pushes forward. Production Redis runs `maxmemory-policy volatile-lru`, which only ever
evicts keys with a TTL: leaderboards may be evicted under memory pressure (and are rebuilt
from the ledger), Celery's queues, which have no TTL, never are.

Ranks are standard competition ranking (1, 2, 2, 4): 1 + the number of listed students with
a strictly higher total.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import cast

from django.conf import settings
from django_redis import get_redis_connection
from redis import Redis
from redis.exceptions import NoScriptError

SENTINEL = "built"
SCOPE_ALL = "all"
CHUNK_SIZE = 5000

# Write one user's total to both sets of a scope, only if the scope is built.
# KEYS: everyone, listed. ARGV: user id, total (or "" to remove), listed (1/0), ttl.
_SET_TOTAL = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
if ARGV[2] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  if ARGV[3] == '1' then
    redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  else
    redis.call('ZREM', KEYS[2], ARGV[1])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""

# The whole read in one call. KEYS: everyone, listed, names. ARGV: limit, user id or "".
# Returns false when the scope is not built, else
# {top (member, score, ...), their cached names, listed size incl. sentinel, standing}
# where standing is false or {score, listed above, listed below, is listed}.
_READ = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then
  return false
end
local top = redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local ids = {}
for i = 1, #top, 2 do
  if top[i] ~= 'built' then
    ids[#ids + 1] = top[i]
  end
end
local names = {}
if #ids > 0 then
  names = redis.call('HMGET', KEYS[3], unpack(ids))
end
local size = redis.call('ZCARD', KEYS[2])
local standing = {}
if ARGV[2] ~= '' then
  local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
  if score then
    standing = {
      score,
      redis.call('ZCOUNT', KEYS[2], '(' .. score, '+inf'),
      redis.call('ZCOUNT', KEYS[2], '-inf', '(' .. score),
      redis.call('ZSCORE', KEYS[2], ARGV[2]) and 1 or 0,
    }
  end
end
return {top, names, size, standing}
"""
_READ_SHA = hashlib.sha1(_READ.encode(), usedforsecurity=False).hexdigest()  # Redis's script id


@dataclass(frozen=True)
class Standing:
    """One listed row: rank (ties share it), user id, total, and the name if cached."""

    rank: int
    user_id: int
    score: int
    name: str | None = None


@dataclass(frozen=True)
class OwnStanding:
    """A student's own place, listed or not."""

    score: int
    rank: int  # among listed students; for a hidden student, where they would stand
    percentile: int  # share (0 to 100) of the other listed students with a lower total
    listed: bool
    listed_count: int  # listed students in the scope


def own_standing(*, score: int, above: int, below: int, listed_count: int, listed: bool):
    """Rank and percentile from counts; shared by Redis reads and the database fallback."""
    others = listed_count - (1 if listed else 0)
    percentile = round(100 * below / others) if others > 0 else 100
    return OwnStanding(
        score=score, rank=above + 1, percentile=percentile, listed=listed, listed_count=listed_count
    )


def redis_client() -> Redis:
    """The raw client of the "default" cache. Unlike cache calls, it raises when Redis is down."""
    return get_redis_connection("default")


def _key_prefix() -> str:
    # Built from the cache prefix, so a test (own prefix) or a second site never shares keys.
    return f"{settings.CACHES['default']['KEY_PREFIX']}:escore:lb"


class Leaderboard:
    def __init__(self, client: Redis, scope: str) -> None:
        self.client = client
        self.scope = scope
        self.everyone_key = f"{_key_prefix()}:{scope}:everyone"
        self.listed_key = f"{_key_prefix()}:{scope}:listed"
        self._rebuild_claim_key = f"{_key_prefix()}:{scope}:rebuilding"
        self.names_key = f"{_key_prefix()}:names"
        self.ttl = settings.ESCORE_LEADERBOARD_TTL

    @classmethod
    def for_scope(cls, scope: str) -> Leaderboard:
        return cls(redis_client(), scope)

    # --- writes ------------------------------------------------------------------------------

    def set_totals(self, totals: Iterable[tuple[int, int | None, bool]]) -> bool:
        """Store (user id, total, listed) rows; a total of None removes the user.

        Idempotent absolute writes, pipelined. Returns False (and writes nothing) when the
        scope is not built: the caller rebuilds it from the ledger instead.
        """
        script = self.client.register_script(_SET_TOTAL)
        pipe = self.client.pipeline(transaction=False)
        rows = 0
        for user_id, total, listed in totals:
            script(
                keys=[self.everyone_key, self.listed_key],
                args=[user_id, "" if total is None else total, int(listed), self.ttl],
                client=pipe,
            )
            rows += 1
        if not rows:
            return self.is_built()
        return all(pipe.execute())

    def set_total(self, user_id: int, total: int | None, *, listed: bool) -> bool:
        return self.set_totals([(user_id, total, listed)])

    def replace(
        self,
        totals: Iterable[tuple[int, int, bool]],
        *,
        progress: Callable[[int], object] | None = None,
    ) -> int:
        """Build the scope from (user id, total, listed) rows into fresh keys, then swap them in.

        Readers see the old sets until one MULTI/EXEC renames both new ones over them, so they
        never see a half-built leaderboard. Returns the number of students stored.
        """
        suffix = uuid.uuid4().hex[:12]
        new_everyone = f"{self.everyone_key}:new:{suffix}"
        new_listed = f"{self.listed_key}:new:{suffix}"
        pipe = self.client.pipeline(transaction=False)
        for key in (new_everyone, new_listed):
            pipe.zadd(key, {SENTINEL: -math.inf})
            # If this process dies half way, the half-built keys go away by themselves.
            pipe.expire(key, self.ttl)
        pipe.execute()
        stored = 0
        rows = iter(totals)
        while chunk := list(islice(rows, CHUNK_SIZE)):
            pipe.zadd(new_everyone, {str(user_id): total for user_id, total, _ in chunk})
            listed = {str(user_id): total for user_id, total, is_listed in chunk if is_listed}
            if listed:
                pipe.zadd(new_listed, listed)
            pipe.execute()
            stored += len(chunk)
            if progress:
                progress(len(chunk))
        swap = self.client.pipeline(transaction=True)
        swap.rename(new_everyone, self.everyone_key)
        swap.rename(new_listed, self.listed_key)
        swap.delete(self._rebuild_claim_key, self.names_key)
        swap.execute()
        return stored

    def rebuild_claim(self, *, seconds: int = 60) -> bool:
        """True for the one caller that should rebuild this scope now (SET NX with a TTL).

        After Redis lost a scope, every refresh finds it missing; only one rebuilds, the
        others' totals are in its snapshot or re-applied by its catch-up.
        """
        return bool(self.client.set(self._rebuild_claim_key, 1, nx=True, ex=seconds))

    def touch(self) -> None:
        """Push the TTL forward (the reconcile does this, so a live leaderboard never expires)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.expire(self.everyone_key, self.ttl)
        pipe.expire(self.listed_key, self.ttl)
        pipe.execute()

    # --- reads -------------------------------------------------------------------------------

    def is_built(self) -> bool:
        return self.client.exists(self.everyone_key, self.listed_key) == 2

    def top_and_standing(
        self, *, limit: int, user_id: int | None
    ) -> tuple[list[Standing], OwnStanding | None, int] | None:
        """The top `limit` listed students, `user_id`'s own standing and the listed count.

        One round trip (two the first time a Redis server sees the script); names come
        along when cached (`names_store`), else `Standing.name` is None. None when the
        scope is not built.
        """
        keys = (self.everyone_key, self.listed_key, self.names_key)
        args = (str(limit), "" if user_id is None else str(user_id))
        try:
            result = self.client.evalsha(_READ_SHA, len(keys), *keys, *args)
        except NoScriptError:
            result = self.client.eval(_READ, len(keys), *keys, *args)
        if not result:
            return None
        flat_top, names, size, standing = cast(list, result)
        members = flat_top[0::2]
        scores = flat_top[1::2]
        rows = [
            (int(member), int(score))
            for member, score in zip(members, scores, strict=True)
            if member != b"built"
        ]
        ranked = [
            Standing(
                rank=standing_.rank,
                user_id=standing_.user_id,
                score=standing_.score,
                name=name.decode() if name is not None else None,
            )
            for standing_, name in zip(_ranked(rows), names, strict=True)
        ]
        own = None
        if standing:
            score, above, below, listed = standing
            own = own_standing(
                score=int(float(score)),
                above=int(above),
                below=int(below) - 1,  # minus the sentinel
                listed_count=int(size) - 1,
                listed=bool(listed),
            )
        return ranked, own, int(size) - 1

    # --- names -------------------------------------------------------------------------------

    def names_store(self, names: dict[int, str]) -> None:
        """Cache leaderboard names (one hash for every scope, expiring like any cache)."""
        if names:
            pipe = self.client.pipeline(transaction=False)
            pipe.hset(self.names_key, mapping=names)
            # NX: the TTL runs from the hash's creation, so a name changed without a refresh
            # is stale for at most CACHE_TTL, however often other names are added.
            pipe.expire(self.names_key, settings.CACHE_TTL, nx=True)
            pipe.execute()

    def names_forget(self, user_ids: Iterable[int]) -> None:
        """Drop cached names, so a new name, pseudonym or visibility shows at once."""
        user_ids = list(user_ids)
        if user_ids:
            self.client.hdel(self.names_key, *(str(user_id) for user_id in user_ids))

    def top(self, limit: int) -> list[Standing]:
        result = self.top_and_standing(limit=limit, user_id=None)
        return result[0] if result else []

    def standing(self, user_id: int) -> OwnStanding | None:
        result = self.top_and_standing(limit=1, user_id=user_id)
        return result[1] if result else None

    def snapshot(self) -> tuple[dict[int, int], set[int]] | None:
        """Everything stored: ({user id: total}, {listed user ids}); None when not built."""
        pipe = self.client.pipeline(transaction=True)
        pipe.exists(self.everyone_key, self.listed_key)
        pipe.zrange(self.everyone_key, 0, -1, withscores=True)
        pipe.zrange(self.listed_key, 0, -1)
        built, everyone, listed = pipe.execute()
        if built != 2:
            return None
        totals = {int(member): int(score) for member, score in everyone if member != b"built"}
        return totals, {int(member) for member in listed if member != b"built"}


def _ranked(rows: Iterable[tuple[int, int]]) -> list[Standing]:
    """Standard competition ranks for rows sorted by score, highest first, from the top."""
    standings: list[Standing] = []
    for position, (user_id, score) in enumerate(rows, start=1):
        tied = bool(standings) and standings[-1].score == score
        rank = standings[-1].rank if tied else position
        standings.append(Standing(rank=rank, user_id=user_id, score=score))
    return standings
