"""Pseudonyms: how a student appears on the leaderboard unless they choose to show their name.

Every account gets one when it is created ("SwiftOtter42"), so the leaderboard never needs to
fall back to anything personal. Not unique: two students may share one, as two may share a
name; the leaderboard shows ranks and points, not identities.
"""

import random
import secrets

ADJECTIVES: tuple[str, ...] = (
    "Brave", "Clever", "Cosmic", "Curious", "Golden", "Lucky", "Mighty", "Quiet", "Rapid",
    "Sunny", "Swift", "Witty",
)  # fmt: skip
NOUNS: tuple[str, ...] = (
    "Bear", "Cub", "Falcon", "Fox", "Heron", "Maple", "Otter", "Comet", "Owl", "Arch",
)  # fmt: skip

_system_random = secrets.SystemRandom()


def pseudonym_generate(rng: random.Random | None = None) -> str:
    """A fresh pseudonym; `rng` for reproducible demo data."""
    rng = rng or _system_random
    return f"{rng.choice(ADJECTIVES)}{rng.choice(NOUNS)}{rng.randint(1, 99)}"
