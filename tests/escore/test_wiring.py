"""Check-ins and profile changes reach the E-score through the real services and tasks."""

import datetime as dt

import pytest
from django.utils import timezone

from escore.leaderboard import SCOPE_ALL, Leaderboard
from escore.models import ScoreEntry
from escore.selectors import leaderboard_get
from events import services
from tests.factories import EventPostFactory, EventRegistrationFactory, OrganizerFactory
from users.services import user_profile_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


@pytest.fixture
def happening_now():
    now = timezone.now()
    organizer = OrganizerFactory()
    event = EventPostFactory(
        organizer=organizer,
        starts_at=now - dt.timedelta(minutes=20),
        ends_at=now + dt.timedelta(hours=1),
    )
    return organizer, EventRegistrationFactory(event=event)


def test_checking_in_raises_the_score_on_the_leaderboard(happening_now, side_effects):
    organizer, registration = happening_now
    with side_effects(execute=True):
        services.registration_check_in(registration_id=registration.pk, by=organizer)

    reasons = set(
        ScoreEntry.objects.filter(user=registration.user).values_list("reason", flat=True)
    )
    assert reasons == {"attended", "new_category"}
    board = leaderboard_get(scope="all", user=registration.user)
    assert not board.delayed
    assert board.me.score == 15
    assert (
        Leaderboard.for_scope(SCOPE_ALL).top_and_standing(limit=5, user_id=None)[0][0].score == 15
    )

    with side_effects(execute=True):
        services.registration_check_in_undo(registration_id=registration.pk, by=organizer)
    assert leaderboard_get(scope="all", user=registration.user).me.score == 0


def test_checking_in_twice_awards_once(happening_now, side_effects):
    organizer, registration = happening_now
    for _ in range(3):
        with side_effects(execute=True):
            services.registration_check_in(registration_id=registration.pk, by=organizer)
    assert ScoreEntry.objects.filter(user=registration.user, reason="attended").count() == 1


def test_hiding_from_the_leaderboard_takes_effect_at_once(happening_now, side_effects):
    organizer, registration = happening_now
    student = registration.user
    with side_effects(execute=True):
        services.registration_check_in(registration_id=registration.pk, by=organizer)
    assert [row.score for row in leaderboard_get(scope="all", user=None).rows] == [15]

    with side_effects(execute=True):
        user_profile_update(
            user=student, display_name="Bear", leaderboard_visibility="hidden", pseudonym=""
        )
    assert leaderboard_get(scope="all", user=None).rows == []
    assert leaderboard_get(scope="all", user=student).me.score == 15


def test_a_new_event_is_geocoded_in_the_background(settings, side_effects):
    settings.GOOGLE_MAPS_API_KEY = ""  # the campus gazetteer answers
    organizer = OrganizerFactory()
    start = timezone.now() + dt.timedelta(days=2)
    with side_effects(execute=True):
        event = services.event_create(
            organizer=organizer,
            title="Robotics demo",
            category=EventPostFactory().category,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            location_name="Room 110, Simon Hall",
        )
    event.refresh_from_db()
    assert event.geocode_status == "found"
    assert event.latitude is not None
