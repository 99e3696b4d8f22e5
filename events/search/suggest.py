"""Words while typing (title prefixes) and "did you mean" (closest words of upcoming events)."""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection
from django.db.models import (
    BooleanField,
    F,
    Func,
    Value,
)
from django.utils import timezone

from events.models import EventPost

from . import plan
from .params import SearchParams, clean_text
from .plan import candidate_order
from .prefix_index import prefix_index_suggest
from .result_cache import results_generation_bump
from .sql import Operator, compiled
from .synonyms import suggestion_words

_PREFIX_WORD = re.compile(r"[^\W_]+")
_QUERY_WORD = re.compile(r"(?<![\w-])(-?)([^\W\d_]{3,40})\b")


def spelling_suggestion(q: str) -> str | None:
    """`q` with each word that no upcoming event contains replaced by the closest one that does.

    Uses events_search_word (distinct words of upcoming titles, places and descriptions,
    trigram-indexed; migration 0024), so a word that matches anything is never taken for a
    typo; None when nothing changes.
    """
    words = [match for match in _QUERY_WORD.finditer(q) if not match.group(1)]
    lowered = list(dict.fromkeys(match.group(2).lower() for match in words))
    lowered = [word for word in lowered if word != "or"][:10]
    if not lowered:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT typed.word, closest.word, similarity(closest.word, typed.word)
            FROM unnest(%s::text[]) AS typed(word)
            CROSS JOIN LATERAL (
                SELECT candidate.word FROM events_search_word AS candidate
                ORDER BY candidate.word <-> typed.word
                LIMIT 1
            ) AS closest
            """,
            (lowered,),
        )
        replacements = {
            typed: closest
            for typed, closest, similarity in cursor.fetchall()
            if typed != closest and similarity >= 0.3
        }
    if not replacements:
        return None

    def replace(match: re.Match[str]) -> str:
        negated, word = match.group(1), match.group(2)
        return match.group(0) if negated else str(replacements.get(word.lower(), word))

    return _QUERY_WORD.sub(replace, q)


def search_words_refresh() -> None:
    """Rebuild the did-you-mean vocabulary; run after loading data and on a schedule."""
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY events_search_word")
    # Typo corrections computed with the old words are cached with the results.
    results_generation_bump()


# ---------------------------------------------------------------------------------------------
# Suggestions while typing

# Spelled exactly like the expression of event_published_title_simple_gin, so it is used.
_SIMPLE_TSVECTOR = "to_tsvector('simple'::regconfig, %(expressions)s)"
_SIMPLE_TSQUERY = "to_tsquery('simple'::regconfig, %(expressions)s)"


def event_suggest(prefix: str, *, limit: int = 8, now: dt.datetime | None = None) -> list[str]:
    """Titles of upcoming published events whose title words start with the typed words.

    Every typed word is a prefix ("bask tour" finds "Basketball Tournament"); any input is
    safe because only letters and digits reach to_tsquery. A campus synonym ("bball")
    stands for its expansion's words. The Redis prefix index (prefix_index) answers when
    it can: no SQL at all. Otherwise two statements: the plan facts,
    then the titles, from the title GIN index for rare prefixes or, for common ones, from
    the next plan.SUGGEST_WINDOW events in start order.
    """
    # One-letter prefixes match half the vocabulary and make the GIN scan slow; they add
    # little to the other words.
    words = [w[:40] for w in _PREFIX_WORD.findall(clean_text(prefix).lower()) if len(w) > 1][:6]
    if not words or limit < 1:
        return []
    words = suggestion_words(words)[:8]  # "bball" completes to basketball titles
    now = now or timezone.now()
    indexed = prefix_index_suggest(words, limit=limit, now=now)
    if indexed is not None:
        return indexed
    tsquery = " & ".join(f"{word}:*" for word in words)
    facts = plan.search_facts(title_prefix=tsquery)
    upcoming = EventPost.objects.filter(
        status=EventPost.Status.PUBLISHED, ends_at__gt=now, visibility=EventPost.Visibility.PUBLIC
    )
    title_matches = Operator(
        Func(F("title"), template=_SIMPLE_TSVECTOR),
        "@@",
        Func(Value(tsquery), template=_SIMPLE_TSQUERY),
        output_field=BooleanField(),
    )
    if plan.prefers_index(
        facts.estimated_title_matches,
        event_rows=facts.event_rows,
        wanted=limit * 4,
        window=plan.SUGGEST_WINDOW,
    ):
        titles = upcoming.filter(title_matches).order_by(*candidate_order(SearchParams(), "index"))
        found = list(titles.values_list("title", flat=True)[: limit * 4])
    else:
        window_sql, window_params = compiled(
            upcoming.filter(starts_at__gt=now - facts.longest_event)
            .order_by("starts_at", "pk")
            .values("id", "title", "starts_at")[: plan.SUGGEST_WINDOW]
        )
        # A word-start regex per word: several times cheaper per row than to_tsvector.
        word_starts = " AND ".join(["window_events.title ~* %s"] * len(words))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT title FROM ({window_sql}) AS window_events"  # noqa: S608 - values are parameters # nosec B608
                f" WHERE {word_starts} ORDER BY starts_at, id LIMIT %s",
                (*window_params, *(rf"\m{word}" for word in words), limit * 4),
            )
            found = [title for (title,) in cursor.fetchall()]
    return list(dict.fromkeys(found))[:limit]
