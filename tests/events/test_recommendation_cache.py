""" "For you" reflects a follow, a registration or a hidden pick at once: the cached picks are
dropped when the change is made, and again when it commits (a page computing meanwhile may
have cached picks without it)."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from events import recommendations, services
from orgs import services as org_services
from tests.factories import EventCategoryFactory, EventPostFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

STALE = ["picks computed before the change"]


@pytest.fixture
def student():
    return UserFactory()


@pytest.fixture
def event():
    return EventPostFactory(starts_at=timezone.now() + dt.timedelta(days=3))


def _changes(student, event):
    organization = OrganizationFactory()
    category = EventCategoryFactory()
    return {
        "organization_follow": lambda: org_services.organization_follow(
            organization_id=organization.pk, user=student
        ),
        "organization_unfollow": lambda: org_services.organization_unfollow(
            organization_id=organization.pk, user=student
        ),
        "category_follow": lambda: org_services.category_follow(category=category, user=student),
        "category_unfollow": lambda: org_services.category_unfollow(
            category=category, user=student
        ),
        "registration_create": lambda: services.registration_create(
            event_id=event.pk, user=student
        ),
        "registration_cancel": lambda: services.registration_cancel(
            event_id=event.pk, user=student
        ),
        "recommendation_dismiss": lambda: services.recommendation_dismiss(
            event_id=event.pk, user=student
        ),
    }


@pytest.mark.parametrize(
    "change",
    [
        "organization_follow",
        "organization_unfollow",
        "category_follow",
        "category_unfollow",
        "registration_create",
        "registration_cancel",
        "recommendation_dismiss",
    ],
)
def test_each_change_drops_the_cached_picks_now_and_on_commit(
    student, event, change, django_capture_on_commit_callbacks
):
    changes = _changes(student, event)
    if change == "registration_cancel":
        changes["registration_create"]()
    key = recommendations.cache_key(student.pk)
    recommendations.recommendations_for(user=student)
    assert cache.get(key) is not None

    with django_capture_on_commit_callbacks(execute=True):
        changes[change]()
        assert cache.get(key) is None  # now: the page this request redirects to
        cache.set(key, STALE)  # a concurrent page caches picks computed before the commit
    assert cache.get(key) is None


def test_a_follow_shows_in_for_you_at_once(student):
    organization = OrganizationFactory(name="Robotics Club")
    hosted = EventPostFactory(
        organization=organization, starts_at=timezone.now() + dt.timedelta(days=2)
    )
    before = {r.event: r.reason for r in recommendations.recommendations_for(user=student)}
    assert "which you follow" not in before.get(hosted, "")

    org_services.organization_follow(organization_id=organization.pk, user=student)

    after = {r.event: r.reason for r in recommendations.recommendations_for(user=student)}
    assert after[hosted] == "From Robotics Club, which you follow"
