"""Explained recommendations: "For you" on the home page and /api/v1/me/recommendations."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from escore import rules
from events import recommendations
from events.models import RecommendationDismissal
from orgs.models import CategoryFollow, OrganizationFollow
from tests.factories import (
    EventCategoryFactory,
    EventPostFactory,
    EventRegistrationFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _past_event(**fields):
    starts_at = timezone.now() - dt.timedelta(days=10)
    return EventPostFactory(
        starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), **fields
    )


def _attended(user, event):
    return EventRegistrationFactory(user=user, event=event, checked_in_at=event.starts_at)


def _soon(days: float = 3, **fields):
    return EventPostFactory(starts_at=timezone.now() + dt.timedelta(days=days), **fields)


def _picks(user):
    return recommendations.picks_compute(user=user)


def test_event_like_one_attended_is_picked_first_and_says_because_you_went_to():
    robots = EventCategoryFactory(name="Robotics")
    other = EventCategoryFactory(name="Poetry")
    club = OrganizationFactory(name="Robot Club")
    student = UserFactory()
    _attended(student, _past_event(title="Robot Arm Demo Day", category=robots, organization=club))
    like_it = _soon(days=5, title="Robot Soccer", category=robots, organization=club)
    _soon(days=1, title="Sonnets", category=other)

    picks = _picks(student)

    assert picks[0].event_id == like_it.pk
    assert picks[0].reason == "Because you went to Robot Arm Demo Day"
    assert picks[0].kind == "history"


def test_registered_and_followed_signals_explain_themselves():
    student = UserFactory()
    club = OrganizationFactory(name="Chess Club")
    OrganizationFollow.objects.create(user=student, organization=club)
    talks = EventCategoryFactory(name="Talks")
    CategoryFollow.objects.create(user=student, category=talks)
    chess = _soon(title="Chess night", organization=club)
    talk = _soon(title="A talk", category=talks)

    reasons = {pick.event_id: pick.reason for pick in _picks(student)}

    assert reasons[chess.pk] == "From Chess Club, which you follow"
    assert reasons[talk.pk] == "In Talks, which you follow"


def test_new_category_pick_names_the_real_breadth_bonus():
    music = EventCategoryFactory(name="Music")
    science = EventCategoryFactory(name="Science")
    student = UserFactory()
    for _ in range(3):
        _attended(student, _past_event(category=music))
    for index in range(8):
        _soon(days=1 + index / 10, category=music)
    new = _soon(days=2, category=science, title="Lab open house")

    picks = {pick.event_id: pick for pick in _picks(student)}

    assert new.pk in picks, "a new category makes the list even when old ones score higher"
    assert picks[new.pk].kind == "new_category"
    assert picks[new.pk].reason.startswith(
        f"New category for you: +{rules.NEW_CATEGORY_POINTS} breadth bonus"
    )
    assert rules.NEW_CATEGORY_POINTS == 5


def test_cold_start_uses_students_like_you_then_popular_overall():
    club = OrganizationFactory()
    student, peer = UserFactory(), UserFactory()
    crowd = UserFactory.create_batch(3)
    popular = _soon(days=4, title="Everyone goes")
    for other in crowd:
        EventRegistrationFactory(user=other, event=popular)
    liked_by_peer = _soon(days=4, title="Peer's pick")
    EventRegistrationFactory(user=peer, event=liked_by_peer)

    # No history at all: popular overall.
    first = _picks(student)[0]
    assert (first.event_id, first.kind) == (popular.pk, "popular")
    assert first.reason == "Popular on campus: 3 registered so far"

    # Following what a peer follows makes the peer "like you".
    OrganizationFollow.objects.create(user=student, organization=club)
    OrganizationFollow.objects.create(user=peer, organization=club)
    reasons = {pick.event_id: pick.reason for pick in _picks(student)}
    assert reasons[liked_by_peer.pk] == "Popular with students like you"


def test_registered_drafts_past_and_others_private_events_are_never_picked():
    student = UserFactory()
    registered = _soon()
    EventRegistrationFactory(user=student, event=registered)
    _soon(status="draft")
    _past_event()
    _soon(visibility="members", organization=OrganizationFactory())
    visible = _soon()

    assert [pick.event_id for pick in _picks(student)] == [visible.pk]


def test_not_interested_hides_the_event_and_lowers_similar_ones(client):
    quiz = EventCategoryFactory(name="Quiz")
    film = EventCategoryFactory(name="Film")
    student = UserFactory()
    client.force_login(student)
    hidden = _soon(days=2, category=quiz, title="Quiz one")
    similar = _soon(days=2, category=quiz, title="Quiz two")
    other = _soon(days=3, category=film, title="Film")
    before = {pick.event_id: pick.score for pick in _picks(student)}

    response = client.post(reverse("events:not-interested", args=[hidden.pk]))

    assert response.status_code == 302
    assert RecommendationDismissal.objects.filter(user=student, event=hidden).exists()
    home = client.get(response["Location"]).content.decode()
    assert "Hidden: “Quiz one”" in home
    after = {pick.event_id: pick.score for pick in _picks(student)}
    assert hidden.pk not in after
    assert after[similar.pk] < before[similar.pk]
    assert after[other.pk] == before[other.pk]
    assert list(after) == [other.pk, similar.pk]

    client.post(reverse("events:not-interested-undo", args=[hidden.pk]))
    assert not RecommendationDismissal.objects.filter(user=student).exists()
    assert hidden.pk in [pick.event_id for pick in _picks(student)]


def test_not_interested_needs_a_post_a_login_and_a_visible_event(client):
    event = _soon()
    url = reverse("events:not-interested", args=[event.pk])
    assert client.post(url).status_code == 302  # to the login page
    assert not RecommendationDismissal.objects.exists()
    client.force_login(UserFactory())
    assert client.get(url).status_code == 405
    assert client.post(reverse("events:not-interested", args=[999_999])).status_code == 404
    draft = _soon(status="draft")
    assert client.post(reverse("events:not-interested", args=[draft.pk])).status_code == 404


def test_home_shows_for_you_in_one_query_once_cached(client, django_assert_num_queries):
    student = UserFactory()
    club = OrganizationFactory()
    OrganizationFollow.objects.create(user=student, organization=club)
    EventPostFactory.create_batch(3, organization=club)
    client.force_login(student)
    first = client.get("/")
    assert "For you" in first.content.decode()
    assert len(first.context["recommendations"]) == 3
    user = first.context["user"]

    with django_assert_num_queries(1):
        picks = recommendations.recommendations_for(user=user)
    assert len(picks) == 3
    assert "which you follow" in picks[0].reason


def test_computing_picks_takes_a_fixed_number_of_queries(django_assert_num_queries):
    student = UserFactory()
    club = OrganizationFactory()
    OrganizationFollow.objects.create(user=student, organization=club)
    for _ in range(3):
        _attended(student, _past_event(organization=club))
    RecommendationDismissal.objects.create(user=student, event=_soon())
    EventPostFactory.create_batch(15, organization=club)
    student = type(student).objects.get(pk=student.pk)

    with django_assert_num_queries(recommendations.RECOMMENDATION_QUERIES):
        picks = recommendations.picks_compute(user=student)
    assert len(picks) == recommendations.PICKS


def test_registering_drops_a_cached_pick(client):
    student = UserFactory()
    event = _soon()
    assert [r.event for r in recommendations.recommendations_for(user=student)] == [event]
    EventRegistrationFactory(user=student, event=event)
    assert recommendations.recommendations_for(user=student) == []


def test_api_lists_picks_with_reasons_and_hides_them(client):
    student = UserFactory()
    event = _soon(title="Open mic")
    assert client.get("/api/v1/me/recommendations").status_code == 401
    client.force_login(student)

    body = client.get("/api/v1/me/recommendations").json()
    assert [(item["event"]["id"], item["kind"]) for item in body] == [(event.pk, "soon")]
    assert body[0]["reason"] == "Coming up soon"

    url = f"/api/v1/me/recommendations/{event.pk}/not-interested"
    assert client.post(url).status_code == 204
    assert client.get("/api/v1/me/recommendations").json() == []
    assert client.delete(url).status_code == 204
    assert len(client.get("/api/v1/me/recommendations").json()) == 1
    assert client.post("/api/v1/me/recommendations/999999/not-interested").status_code == 404
