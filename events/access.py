"""Accessibility attributes of an event, and the needs a student saves to match them.

One list for the event form, the student's settings, search, the API and the cards: a
feature's value is what is stored (events.EventPost.access_features, users.User.access_needs)
and what the API and the `access` search parameter take.
"""

from django.db import models


class AccessFeature(models.TextChoices):
    STEP_FREE = "step_free", "Step-free access"
    CAPTIONS = "captions", "Captioning"
    ASL = "asl", "ASL interpretation"
    QUIET = "quiet", "Quiet / sensory-friendly"
    FOOD = "food", "Food, allergens listed"
    RESTROOM = "restroom", "Gender-neutral restrooms"


# What each feature promises, for the organizer who ticks it and the student who reads it.
EXPLANATIONS: dict[str, str] = {
    AccessFeature.STEP_FREE: "Every room used can be reached without steps: a level entrance, "
    "ramp or lift, and space for a wheelchair.",
    AccessFeature.CAPTIONS: "Live captions (CART or reviewed auto-captions) for everything said "
    "on stage or on screen; recorded media is captioned.",
    AccessFeature.ASL: "An American Sign Language interpreter is booked for the whole event.",
    AccessFeature.QUIET: "No strobe lights or sudden loud sound, and a quiet space to step "
    "away to; the program says when it gets busy.",
    AccessFeature.FOOD: "Food or drink is served and its allergens are listed below (required "
    "with this option), so students can decide before they come.",
    AccessFeature.RESTROOM: "A single-stall or all-gender restroom near the event space.",
}

# A short symbol shown before the label on cards; decorative (the label is the name).
SYMBOLS: dict[str, str] = {
    AccessFeature.STEP_FREE: "♿",
    AccessFeature.CAPTIONS: "CC",
    AccessFeature.ASL: "🤟",
    AccessFeature.QUIET: "🔇",
    AccessFeature.FOOD: "🍽",
    AccessFeature.RESTROOM: "🚻",
}

FEATURE_MAX_LENGTH = 12
ALLERGENS_MAX_LENGTH = 300
ACCESS_CONTACT_MAX_LENGTH = 200


def feature_choices_explained() -> list[tuple[str, str]]:
    """(value, "Label: explanation") for a checkbox list that explains each choice."""
    return [(value, f"{label}: {EXPLANATIONS[value]}") for value, label in AccessFeature.choices]


def features_ordered(values) -> list[str]:
    """Known features among `values`, once each, in the list's order."""
    chosen = set(values)
    return [value for value in AccessFeature.values if value in chosen]


def features_labelled(values) -> list[tuple[str, str, str]]:
    """(value, symbol, label) of each known feature among `values`, in the list's order."""
    return [
        (value, SYMBOLS[value], AccessFeature(value).label) for value in features_ordered(values)
    ]
