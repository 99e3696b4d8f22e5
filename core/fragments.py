"""A page's cached pieces read from Redis in one round trip, not one GET each.

`{% cache %}` reads its fragment with a GET of its own, and so does every other cached
piece a view reads (a student's "For you" picks, say); on the signed-in home page that was
three round trips after the session's, each a wait for Redis (docs/BENCHMARKS.md, issue 25).
A view that knows what its page will read asks for all of it with `fetch_together` and passes
the answer to the template as `prefetched_fragments`; `{% shared_cache %}` (core.templatetags.
fragments, the arguments of `{% cache %}`) takes its fragment from there and, on a miss,
renders and stores it exactly as `{% cache %}` would. A key the view did not ask for is read
as before, so a template and a view that disagree about a key cost a GET, never a wrong page.
"""

from collections.abc import Iterable
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.utils import make_template_fragment_key

# The template's name for what the view fetched.
PREFETCHED = "prefetched_fragments"


def fragment_cache() -> BaseCache:
    """The default cache: the fragments and whatever else a view fetches with them (kept by
    `cache`) must live in one cache for one MGET to read them all."""
    return caches["default"]


def fragment_key(name: str, *vary_on: Any) -> str:
    """The key `{% cache … name vary_on… %}` (and `{% shared_cache %}`) stores under."""
    return make_template_fragment_key(name, vary_on)


def fetch_together(keys: Iterable[str]) -> dict[str, Any]:
    """Every key asked for, with its value or None for a miss: one MGET.

    Redis down answers every key None (the cache's IGNORE_EXCEPTIONS): the page renders from
    the database, as with a GET each.
    """
    keys = list(dict.fromkeys(keys))
    found = fragment_cache().get_many(keys) if keys else {}
    return {key: found.get(key) for key in keys}
