"""Highlighted headlines: the private markers, and their HTML or JSON rendering."""

from __future__ import annotations

import re

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

# U+2063 INVISIBLE SEPARATOR makes the markers impossible to type by accident and invisible
# if a caller forgets to convert them; the brackets keep them readable in logs and tests.
HIGHLIGHT_START = "\u2063[["
HIGHLIGHT_STOP = "]]\u2063"
MARKER_CHARACTER = "\u2063"


def highlight_segments(text: str) -> list[tuple[str, bool]]:
    """Split a headline into (text, is_match) pieces, for JSON clients."""
    segments: list[tuple[str, bool]] = []
    for index, piece in enumerate(
        re.split(f"{re.escape(HIGHLIGHT_START)}|{re.escape(HIGHLIGHT_STOP)}", text)
    ):
        if piece:
            segments.append((piece, index % 2 == 1))
    return segments


def mark_highlights(text: str) -> SafeString:
    """HTML for a headline: all user text escaped, matches wrapped in <mark>."""
    parts = [
        f"<mark>{conditional_escape(piece)}</mark>" if is_match else str(conditional_escape(piece))
        for piece, is_match in highlight_segments(text)
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every piece was escaped # nosec B308 B703


def format_count(count: int, *, capped: bool) -> str:
    """'500+' for capped totals and facet counts, '42' otherwise."""
    return f"{count:,}+" if capped else f"{count:,}"
