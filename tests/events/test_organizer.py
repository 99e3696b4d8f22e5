"""The organizer's tools: create, edit, duplicate, publish, cancel, roster, CSV, messages."""

import csv
import datetime as dt
import io

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from events import services
from events.exports import csv_safe
from events.models import EventPost, EventRegistration, OrganizerMessage
from tests.factories import (
    EventCategoryFactory,
    EventPostFactory,
    EventRegistrationFactory,
    OrganizerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def organizer(client):
    organizer = OrganizerFactory(display_name="Dana Organizer")
    client.force_login(organizer)
    return organizer


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def form_data(**overrides) -> dict:
    starts_at = timezone.now() + dt.timedelta(days=2)
    data = {
        "title": "Chess night",
        "category": EventCategoryFactory(slug="games", name="Games").pk,
        "starts_at": local(starts_at),
        "ends_at": local(starts_at + dt.timedelta(hours=2)),
        "location_name": "Olin Library",
        "address": "1 Brookings Dr",
        "capacity": "",
        "description": "Bring a board.",
    }
    data.update(overrides)
    return data


def test_create_saves_a_draft_in_central_time_then_publish(client, organizer):
    data = form_data(starts_at="2030-03-10T19:30", ends_at="2030-03-10T21:00")
    response = client.post(reverse("events:create"), data)
    event = EventPost.objects.get()
    assert response["Location"] == reverse("events:manage", args=[event.pk])
    assert event.status == "draft"
    assert event.organizer == organizer
    assert event.capacity is None
    assert event.geocode_status == "pending"
    # 19:30 in St. Louis on March 10, 2030 (daylight time) is 00:30 UTC the next day.
    assert event.starts_at == dt.datetime(2030, 3, 11, 0, 30, tzinfo=dt.UTC)

    client.post(reverse("events:publish", args=[event.pk]))
    event.refresh_from_db()
    assert event.status == "published"
    assert client.get(event.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ends_at": "2030-03-10T18:00", "starts_at": "2030-03-10T19:00"}, "ends_at", "end after"),
        ({"capacity": "0"}, "capacity", "greater than or equal to 1"),
        ({"capacity": "-5"}, "capacity", "greater than or equal to 1"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"location_name": "x" * 201}, "location_name", "at most 200"),
        ({"address": "x" * 301}, "address", "at most 300"),
        ({"description": "x" * 5001}, "description", "at most 5000"),
        ({"title": ""}, "title", "required"),
        ({"starts_at": "tomorrow"}, "starts_at", "valid date/time"),
        ({"category": "999999"}, "category", "valid choice"),
    ],
)
def test_bad_event_input_is_a_form_error(client, organizer, overrides, field, message):
    response = client.post(reverse("events:create"), form_data(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not EventPost.objects.exists()


def test_publishing_an_event_in_the_past_is_refused_with_the_reason(client, organizer):
    past = timezone.now() - dt.timedelta(days=1)
    client.post(
        reverse("events:create"),
        form_data(starts_at=local(past), ends_at=local(past + dt.timedelta(hours=1))),
    )
    event = EventPost.objects.get()
    response = client.post(reverse("events:publish", args=[event.pk]), follow=True)
    assert "start time has passed" in response.content.decode()
    event.refresh_from_db()
    assert event.status == "draft"


def test_user_text_is_rendered_inert_everywhere(client, organizer):
    student = UserFactory(display_name=XSS)
    client.post(
        reverse("events:create"),
        form_data(title=XSS, location_name=XSS, address=XSS, description=XSS),
    )
    event = EventPost.objects.get()
    client.post(reverse("events:publish", args=[event.pk]))
    services.registration_create(event_id=event.pk, user=student)
    services.event_cancel(event_id=event.pk, by=organizer, reason=XSS)
    pages = [
        reverse("events:organize") + "?show=cancelled",
        reverse("events:manage", args=[event.pk]),
        reverse("events:edit", args=[event.pk]),
        event.get_absolute_url(),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        assert "<script>alert" not in page, url
        assert "<img src=x" not in page, url
        assert "&lt;script&gt;" in page, url


def test_edit_rejects_capacity_below_the_confirmed_count(client, organizer):
    event = EventPostFactory(organizer=organizer, capacity=3)
    for _ in range(3):
        services.registration_create(event_id=event.pk, user=UserFactory())
    data = form_data(capacity="2", category=event.category.pk)
    response = client.post(reverse("events:edit", args=[event.pk]), data)
    assert response.status_code == 200
    assert "3 students already hold a seat" in response.content.decode()
    event.refresh_from_db()
    assert event.capacity == 3


def test_raising_capacity_promotes_the_waitlist_and_tells_them(
    client, organizer, celery_eager, side_effects
):
    event = EventPostFactory(organizer=organizer, capacity=1)
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    for student in (first, second, third):
        services.registration_create(event_id=event.pk, user=student)
    mail.outbox.clear()

    with side_effects(execute=True):
        services.event_update(event_id=event.pk, by=organizer, capacity=2)

    event.refresh_from_db()
    assert (event.seats_taken, event.waitlist_count) == (2, 1)
    assert EventRegistration.objects.get(event=event, user=second).status == "confirmed"
    assert EventRegistration.objects.get(event=event, user=third).status == "waitlisted"
    assert [m.to for m in mail.outbox] == [[second.email]]

    services.event_update(event_id=event.pk, by=organizer, capacity=None)
    event.refresh_from_db()
    assert (event.seats_taken, event.waitlist_count) == (3, 0)


def test_changing_the_address_resets_the_coordinates_for_geocoding(organizer):
    event = EventPostFactory(
        organizer=organizer, latitude=38.6488, longitude=-90.3108, geocode_status="found"
    )
    services.event_update(event_id=event.pk, by=organizer, title="New title")
    event.refresh_from_db()
    assert event.geocode_status == "found"
    services.event_update(event_id=event.pk, by=organizer, address="6445 Forsyth Blvd")
    event.refresh_from_db()
    assert (event.geocode_status, event.latitude, event.longitude) == ("pending", None, None)


def test_duplicate_asks_for_the_new_start_and_moves_every_time(client, organizer):
    starts_at = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=3)
    event = EventPostFactory(
        organizer=organizer,
        title="Weekly chess",
        capacity=12,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        registration_opens_at=starts_at - dt.timedelta(days=4),
        registration_closes_at=starts_at - dt.timedelta(hours=1),
        cancellation_deadline=starts_at - dt.timedelta(days=1),
    )
    services.question_add(event_id=event.pk, by=organizer, preset="tshirt")
    services.registration_create(event_id=event.pk, user=UserFactory())
    page = client.get(reverse("events:duplicate", args=[event.pk]))
    assert page.context["form"].initial["starts_at"] == starts_at + dt.timedelta(days=7)
    past = client.post(
        reverse("events:duplicate", args=[event.pk]), {"starts_at": "2020-01-01T10:00"}
    )
    assert past.context["form"].errors["starts_at"] == ["Choose a start in the future."]
    assert EventPost.objects.count() == 1

    new_start = starts_at + dt.timedelta(days=14, hours=1)
    response = client.post(
        reverse("events:duplicate", args=[event.pk]), {"starts_at": local(new_start)}
    )
    copy = EventPost.objects.exclude(pk=event.pk).get()
    assert response["Location"] == reverse("events:edit", args=[copy.pk])
    shift = dt.timedelta(days=14, hours=1)
    assert (copy.title, copy.capacity, copy.status, copy.seats_taken) == (
        "Weekly chess",
        12,
        "draft",
        0,
    )
    for name in (
        "starts_at",
        "ends_at",
        "registration_opens_at",
        "registration_closes_at",
        "cancellation_deadline",
    ):
        assert getattr(copy, name) == getattr(event, name) + shift, name
    assert [q.label for q in copy.questions.all()] == ["T-shirt size"]

    api = client.post(
        f"{API}/events/{event.pk}/duplicate",
        {"starts_at": (starts_at + dt.timedelta(days=7)).isoformat()},
        content_type="application/json",
    )
    assert api.status_code == 201
    body = api.json()
    ends_at = dt.datetime.fromisoformat(body["ends_at"])
    assert ends_at == event.ends_at + dt.timedelta(days=7)
    assert [q["label"] for q in body["questions"]] == ["T-shirt size"]


def test_dashboard_tabs_hold_events_with_counts(client, organizer):
    now = timezone.now()
    EventPostFactory(organizer=organizer, title="A draft", status="draft")
    upcoming = EventPostFactory(organizer=organizer, title="Upcoming one", capacity=5)
    EventPostFactory(
        organizer=organizer,
        title="Past one",
        starts_at=now - dt.timedelta(days=2),
        ends_at=now - dt.timedelta(days=2) + dt.timedelta(hours=1),
    )
    EventPostFactory(
        organizer=organizer, title="Called off", status="cancelled", cancellation_reason="Rain"
    )
    EventPostFactory(title="Someone else's")
    services.registration_create(event_id=upcoming.pk, user=UserFactory())
    shown = {}
    for tab in ("upcoming", "drafts", "past", "cancelled"):
        response = client.get(reverse("events:organize"), {"show": tab})
        shown[tab] = [event.title for event in response.context["events"]]
    assert shown == {
        "upcoming": ["Upcoming one"],
        "drafts": ["A draft"],
        "past": ["Past one"],
        "cancelled": ["Called off"],
    }
    assert response.context["tabs"] == [
        ("upcoming", "Upcoming", 1),
        ("drafts", "Drafts", 1),
        ("past", "Past", 1),
        ("cancelled", "Cancelled", 1),
    ]
    page = client.get(reverse("events:organize")).content.decode()
    assert "1 confirmed of 5" in page
    # An unknown tab is the default one, not an error.
    assert client.get(reverse("events:organize"), {"show": "x"}).context["tab"] == "upcoming"


def test_dashboard_pages_twenty_events_in_a_fixed_number_of_queries(
    client, organizer, django_assert_num_queries
):
    start = timezone.now() + dt.timedelta(days=1)
    events = [
        EventPostFactory(organizer=organizer, starts_at=start + dt.timedelta(hours=i), capacity=9)
        for i in range(23)
    ]
    for event in events[:3]:
        EventRegistrationFactory(event=event, checked_in_at=timezone.now())
    client.get(reverse("events:organize"))  # session and user warmed
    # The user, the clubs they host for, the tab counts, the chart, the page and the open
    # score disputes (the session is in the cache): however many events there are.
    with django_assert_num_queries(6):
        first = client.get(reverse("events:organize"))
    assert [event.pk for event in first.context["events"]] == [event.pk for event in events[:20]]
    assert [event.checked_in_count for event in first.context["events"][:4]] == [1, 1, 1, 0]
    with django_assert_num_queries(6):
        last = client.get(reverse("events:organize"), {"page": "99"})
    assert [event.pk for event in last.context["events"]] == [event.pk for event in events[20:]]
    assert b'rel="prev"' in last.content


def test_dashboard_chart_counts_registrations_per_day_with_a_table(client, organizer):
    event = EventPostFactory(organizer=organizer)
    other = EventPostFactory()
    today = timezone.now()
    for days_ago in (0, 0, 3):
        EventRegistrationFactory(event=event, registered_at=today - dt.timedelta(days=days_ago))
    EventRegistrationFactory(event=other, registered_at=today)
    EventRegistrationFactory(event=event, registered_at=today - dt.timedelta(days=40))

    response = client.get(reverse("events:organize"))

    chart = response.context["chart"]
    assert len(chart) == 30
    assert chart[-1].value == 2
    assert chart[-4].value == 1
    assert sum(point.value for point in chart) == 3
    html = response.content.decode()
    assert '<svg class="chart"' in html
    assert 'role="img"' in html
    assert "3 registrations for your events in the last 30 days." in html
    assert f'<th scope="row">{chart[-1].label}</th><td>2</td>' in html


def test_cancel_needs_a_reason_and_emails_everyone_registered(
    client, organizer, celery_eager, side_effects
):
    event = EventPostFactory(organizer=organizer, capacity=1, title="Chess night")
    confirmed, waiting, left = UserFactory(), UserFactory(), UserFactory()
    for student in (confirmed, waiting, left):
        services.registration_create(event_id=event.pk, user=student)
    services.registration_cancel(event_id=event.pk, user=left)
    mail.outbox.clear()
    url = reverse("events:event-cancel", args=[event.pk])

    response = client.post(url, {"reason": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]

    with side_effects(execute=True):
        client.post(url, {"reason": "The room flooded."})
    with side_effects(execute=True):
        client.post(url, {"reason": "Twice."})  # harmless, sends nothing

    event.refresh_from_db()
    assert event.status == "cancelled"
    assert event.cancellation_reason == "The room flooded."
    assert event.cancelled_by == organizer
    assert sorted(m.to[0] for m in mail.outbox) == sorted([confirmed.email, waiting.email])
    assert all("The room flooded." in m.body for m in mail.outbox)
    assert all(m.subject == "Cancelled: Chess night" for m in mail.outbox)


def test_roster_lists_every_group(client, organizer):
    event = EventPostFactory(organizer=organizer, capacity=1)
    confirmed = UserFactory(display_name="Confirmed Carla")
    waiting = UserFactory(display_name="Waiting Wes")
    gone = UserFactory(display_name="Gone Gina")
    for student in (confirmed, waiting, gone):
        services.registration_create(event_id=event.pk, user=student)
    services.registration_cancel(event_id=event.pk, user=gone)
    roster = client.get(reverse("events:manage", args=[event.pk])).context["roster"]
    names = {group: [r.user.display_name for r in rows] for group, rows in roster.items()}
    assert names == {
        "confirmed": ["Confirmed Carla"],
        "waitlisted": ["Waiting Wes"],
        "cancelled": ["Gone Gina"],
        "checked_in": [],
    }


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Dana", "Dana"),
        ("", ""),
    ],
)
def test_csv_cells_never_start_a_formula(value, safe):
    assert csv_safe(value) == safe


def test_csv_export_neutralises_injected_names(client, organizer):
    event = EventPostFactory(organizer=organizer)
    services.registration_create(
        event_id=event.pk, user=UserFactory(display_name='=HYPERLINK("http://evil")')
    )
    response = client.get(reverse("events:roster-csv", args=[event.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["name", "email", "status", "registered_at", "checked_in_at", "guests"]
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'
    assert rows[1][2] == "confirmed"


def test_message_goes_to_each_confirmed_student_and_is_rate_limited(
    client, organizer, celery_eager, side_effects
):
    event = EventPostFactory(organizer=organizer, capacity=2)
    students = [UserFactory() for _ in range(3)]
    for student in students:
        services.registration_create(event_id=event.pk, user=student)
    mail.outbox.clear()
    url = reverse("events:message", args=[event.pk])

    for number in range(3):
        with side_effects(execute=True):
            response = client.post(url, {"subject": f"Update {number}", "body": "Room 101."})
        assert response.status_code == 302

    response = client.post(url, {"subject": "One more", "body": "Room 102."})
    assert response.status_code == 429
    assert "3 times an hour" in response.content.decode()
    assert 3500 < int(response["Retry-After"]) <= 3601
    assert OrganizerMessage.objects.count() == 3
    # Confirmed students only (two seats), one e-mail each, three messages.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([s.email for s in students[:2]] * 3)
    assert OrganizerMessage.objects.filter(sent_at__isnull=False).count() == 3

    # An hour later the oldest message no longer counts.
    OrganizerMessage.objects.filter(subject="Update 0").update(
        created_at=timezone.now() - dt.timedelta(minutes=61)
    )
    assert client.post(url, {"subject": "Later", "body": "Hi."}).status_code == 302


def test_message_fields_are_validated(client, organizer):
    event = EventPostFactory(organizer=organizer)
    url = reverse("events:message", args=[event.pk])
    response = client.post(url, {"subject": "", "body": "x" * 5001})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"subject", "body"}
    assert not OrganizerMessage.objects.exists()


def test_api_create_update_publish_cancel_and_roster(client, organizer):
    EventCategoryFactory(slug="games")
    starts_at = timezone.now() + dt.timedelta(days=3)
    payload = {
        "title": "API chess",
        "category": "games",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + dt.timedelta(hours=1)).isoformat(),
        "location_name": "Olin Library",
    }
    response = client.post(f"{API}/events", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    event_id = response.json()["id"]
    assert response.json()["status"] == "draft"

    response = client.patch(
        f"{API}/events/{event_id}", {"capacity": 10}, content_type="application/json"
    )
    assert response.json()["capacity"] == 10
    assert client.post(f"{API}/events/{event_id}/publish").json()["status"] == "published"
    services.registration_create(event_id=event_id, user=UserFactory())
    roster = client.get(f"{API}/events/{event_id}/roster").json()
    assert len(roster["confirmed"]) == 1
    response = client.post(
        f"{API}/events/{event_id}/cancel", {"reason": "Snow."}, content_type="application/json"
    )
    assert response.json()["cancellation_reason"] == "Snow."


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"ends_at": "2030-01-01T09:00:00-06:00"}, "ends_at"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -1}, "capacity"),
        ({"title": "x" * 201}, "title"),
        ({"category": "no-such-category"}, "category"),
    ],
)
def test_api_bad_event_input_is_422_with_the_field(client, organizer, payload, field):
    EventCategoryFactory(slug="games")
    body = {
        "title": "API chess",
        "category": "games",
        "starts_at": "2030-01-01T10:00:00-06:00",
        "ends_at": "2030-01-01T12:00:00-06:00",
        "location_name": "Olin Library",
        **payload,
    }
    response = client.post(f"{API}/events", body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]
    assert not EventPost.objects.exists()


def test_api_lowering_capacity_below_confirmed_is_refused(client, organizer):
    event = EventPostFactory(organizer=organizer, capacity=2)
    for _ in range(2):
        services.registration_create(event_id=event.pk, user=UserFactory())
    response = client.patch(
        f"{API}/events/{event.pk}", {"capacity": 1}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "2 students already hold a seat" in response.json()["error"]["fields"]["capacity"][0]


def test_editing_a_started_event_keeps_its_start_time(client, organizer):
    """The form shows minutes; saving other fields must not move (or refuse) the start."""
    now = timezone.now()
    event = EventPostFactory(
        organizer=organizer,
        starts_at=now - dt.timedelta(minutes=20, seconds=13),
        ends_at=now + dt.timedelta(hours=1),
    )
    original = event.starts_at
    data = form_data(
        category=event.category.pk,
        starts_at=local(event.starts_at),
        ends_at=local(event.ends_at),
        description="Now in room 101.",
    )
    response = client.post(reverse("events:edit", args=[event.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    event.refresh_from_db()
    assert event.description == "Now in room 101."
    assert event.starts_at == original
