"""Campus synonyms (SearchSynonym) for search and suggestions, and the one tsquery builder.

The table is tiny and read on every search, so each process keeps it for LOCAL_SECONDS,
behind the shared cache, behind the database (the truth: Redis down only costs a query).
A save or delete in the admin drops the shared copy and this process's copy at once;
other processes see it within LOCAL_SECONDS.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from events.models import SEARCH_CONFIG, SearchSynonym

if TYPE_CHECKING:
    from .params import SearchParams

CACHE_KEY = "search:synonyms:v1"
CACHE_SECONDS = 60 * 60
LOCAL_SECONDS = 30.0
_WORD = re.compile(r"[^\W_]+")

_local: tuple[float, dict[str, tuple[str, ...]]] | None = None


def synonym_map() -> dict[str, tuple[str, ...]]:
    """term → expansions, e.g. {"olin": ("Olin Business School", "Olin Library")}."""
    global _local
    if _local is not None and _local[0] > time.monotonic():
        return _local[1]
    mapping = cache.get(CACHE_KEY)
    if mapping is None:
        grouped: dict[str, list[str]] = {}
        for term, expansion in SearchSynonym.objects.values_list("term", "expansion"):
            grouped.setdefault(term, []).append(expansion)
        mapping = {term: tuple(expansions) for term, expansions in grouped.items()}
        cache.set(CACHE_KEY, mapping, CACHE_SECONDS)
    _local = (time.monotonic() + LOCAL_SECONDS, mapping)
    return mapping


def synonyms_forget() -> None:
    """Drop this process's copy; the next search reads the shared cache or the table."""
    global _local
    _local = None


@receiver([post_save, post_delete], sender=SearchSynonym)
def _synonyms_changed(**kwargs) -> None:
    synonyms_forget()
    cache.delete(CACHE_KEY)


def query_synonyms(q: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The words of `q` that have synonyms, each with its expansions.

    Only plain words count: a query with a phrase or `or` is taken as written, since its
    operators bind words together, and a -word keeps its exclusion.
    """
    if '"' in q:
        return ()
    tokens = q.split()
    if any(token.lower() == "or" for token in tokens):
        return ()
    mapping = synonym_map()
    if not mapping:
        return ()
    found: dict[str, tuple[str, ...]] = {}
    for token in tokens:
        if token.startswith("-"):
            continue
        word = token.lower()
        if word in mapping and _WORD.fullmatch(word):
            found[token] = mapping[word]
    return tuple(found.items())


def suggestion_words(words: list[str]) -> list[str]:
    """Typed words with each synonym term replaced by its first expansion's words."""
    mapping = synonym_map()
    expanded: list[str] = []
    for word in words:
        expansions = mapping.get(word)
        expanded += _WORD.findall(expansions[0].lower()) if expansions else [word]
    return expanded


def tsquery_sql(params: SearchParams) -> tuple[str, list]:
    """SQL for the tsquery of a search and its parameters: every SQL user of `q` uses this.

    Without synonyms: websearch_to_tsquery of the text. With them, each such word becomes
    (word | "expansion" | …) ANDed with the rest; tsquery's && and || group properly,
    where `a or b c` in websearch syntax would bind as a | (b & c).
    """
    if not params.synonyms:
        return "websearch_to_tsquery(%s::regconfig, %s)", [SEARCH_CONFIG, params.q]
    expanded_tokens = {token for token, _ in params.synonyms}
    rest = " ".join(token for token in params.q.split() if token not in expanded_tokens)
    parts = ["websearch_to_tsquery(%s::regconfig, %s)"]
    values: list = [SEARCH_CONFIG, rest]
    for token, expansions in params.synonyms:
        alternatives = [token, *(f'"{expansion}"' for expansion in expansions)]
        parts.append(
            "(" + " || ".join(["websearch_to_tsquery(%s::regconfig, %s)"] * len(alternatives)) + ")"
        )
        for alternative in alternatives:
            values += [SEARCH_CONFIG, alternative]
    return "(" + " && ".join(parts) + ")", values
