"""Recurring events: a series of occurrences, edited one or all following, capped in size."""

import datetime as dt

import pytest
from django.urls import reverse

from core import clock
from events import services
from events.models import EventPost, EventQuestion, EventSeries
from tests.factories import EventCategoryFactory, OrganizerFactory

from .test_organizer import form_data

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def organizer(client):
    organizer = OrganizerFactory()
    client.force_login(organizer)
    return organizer


def local_times(events) -> list[str]:
    return [clock.local(event.starts_at).strftime("%a %m-%d %H:%M") for event in events]


def test_weekly_series_keeps_the_time_of_day_across_daylight_saving(client, organizer):
    # Daylight-saving time starts on Sunday, March 14, 2027 in St. Louis.
    data = form_data(
        starts_at="2027-03-09T18:00",
        ends_at="2027-03-09T20:00",
        registration_closes_at="2027-03-09T12:00",
        repeat="weekly",
        weekdays=["1", "3"],
        repeat_until="2027-03-18",
    )
    response = client.post(reverse("events:create"), data)

    events = list(EventPost.objects.order_by("starts_at"))
    assert response["Location"] == reverse("events:manage", args=[events[0].pk])
    assert local_times(events) == [
        "Tue 03-09 18:00",
        "Thu 03-11 18:00",
        "Tue 03-16 18:00",
        "Thu 03-18 18:00",
    ]
    assert {event.status for event in events} == {"draft"}
    assert len({event.series_id for event in events}) == 1
    last = events[-1]
    assert clock.local(last.registration_closes_at).strftime("%m-%d %H:%M") == "03-18 12:00"
    assert last.ends_at - last.starts_at == dt.timedelta(hours=2)
    manage = client.get(reverse("events:manage", args=[events[0].pk])).content.decode()
    assert "Publish this and all following" in manage


def test_ten_thousand_occurrences_are_a_form_error_and_422_with_nothing_saved(client, organizer):
    data = form_data(
        starts_at="2027-03-09T18:00",
        ends_at="2027-03-09T20:00",
        repeat="weekly",
        weekdays=[str(day) for day in range(7)],
        repeat_until="2054-07-25",
    )
    response = client.post(reverse("events:create"), data)
    assert response.status_code == 200
    assert "at most 100 occurrences" in response.context["form"].errors["repeat_until"][0]

    first = dt.date(2027, 3, 9)
    response = client.post(
        f"{API}/events",
        {
            "title": "Daily standup",
            "category": EventCategoryFactory().slug,
            "starts_at": "2027-03-09T09:00:00-06:00",
            "ends_at": "2027-03-09T09:30:00-06:00",
            "location_name": "Olin",
            "repeat": {
                "rule": "dates",
                "dates": [str(first + dt.timedelta(days=n)) for n in range(10_000)],
            },
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    assert (EventPost.objects.count(), EventSeries.objects.count()) == (0, 0)


def test_edit_publish_and_ask_following_and_cancel_one_occurrence(client, organizer):
    category = EventCategoryFactory()
    response = client.post(
        f"{API}/events",
        {
            "title": "Yoga",
            "category": category.slug,
            "starts_at": "2027-04-06T07:00:00-05:00",
            "ends_at": "2027-04-06T08:00:00-05:00",
            "location_name": "Gym",
            "repeat": {"rule": "dates", "dates": ["2027-04-06", "2027-04-13", "2027-04-20"]},
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["series_id"] is not None
    first, second, third = EventPost.objects.order_by("starts_at")

    # This and following: the second and third move an hour later and get the new title.
    response = client.patch(
        f"{API}/events/{second.pk}?following=true",
        {
            "title": "Sunrise yoga",
            "starts_at": "2027-04-13T08:00:00-05:00",
            "ends_at": "2027-04-13T09:00:00-05:00",
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    first.refresh_from_db()
    assert first.title == "Yoga"
    assert local_times([first]) == ["Tue 04-06 07:00"]
    renamed = EventPost.objects.filter(title="Sunrise yoga").order_by("starts_at")
    assert local_times(renamed) == ["Tue 04-13 08:00", "Tue 04-20 08:00"]

    # A bad edit of the following ones changes none of them.
    third.refresh_from_db()
    response = client.patch(
        f"{API}/events/{second.pk}?following=true",
        {"ends_at": "2027-04-13T07:00:00-05:00"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert EventPost.objects.get(pk=third.pk).ends_at == third.ends_at

    client.post(reverse("events:publish", args=[second.pk]), {"scope": "following"})
    client.post(
        reverse("events:questions", args=[second.pk]),
        {"label": "Mat size?", "kind": "text", "following": "on"},
    )
    statuses = dict(EventPost.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "draft", second.pk: "published", third.pk: "published"}
    assert set(EventQuestion.objects.values_list("event_id", flat=True)) == {second.pk, third.pk}

    # One occurrence is cancelled; the series goes on.
    services.event_cancel(event_id=second.pk, by=organizer, reason="Gym closed")
    assert EventPost.objects.get(pk=third.pk).status == "published"
