import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import EventCategoryFactory, EventPostFactory, EventRegistrationFactory


@pytest.fixture
def past_event():
    """Make a published event that ended yesterday (a check-in at it is plausible)."""

    def make(**fields):
        starts_at = fields.pop("starts_at", timezone.now() - dt.timedelta(days=1, hours=2))
        return EventPostFactory(
            starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), **fields
        )

    return make


@pytest.fixture
def check_in():
    def mark(registration, *, checked_in=True):
        registration.checked_in_at = timezone.now() if checked_in else None
        registration.save(update_fields=["checked_in_at"])
        return registration

    return mark


@pytest.fixture
def attended(past_event, check_in):
    """A checked-in registration of `user` at a new past event (in `category` if given)."""

    def make(user, *, category=None, **event_fields):
        category = category or EventCategoryFactory()
        event = past_event(category=category, **event_fields)
        return check_in(EventRegistrationFactory(event=event, user=user))

    return make
