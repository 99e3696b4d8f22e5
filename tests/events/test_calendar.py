import pytest
from django.urls import reverse
from icalendar import Calendar

from tests.factories import EventPostFactory, EventRegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db


def parse(response) -> Calendar:
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def test_event_downloads_as_ics(client):
    event = EventPostFactory(
        title="Fall Career Fair", location_name="Athletic Complex", latitude=38.65, longitude=-90.31
    )
    response = client.get(reverse("events:calendar", args=[event.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    (vevent,) = parse(response).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Fall Career Fair"
    assert vevent.decoded("DTSTART") == event.starts_at.replace(microsecond=0)
    assert vevent.decoded("DTEND") == event.ends_at.replace(microsecond=0)
    assert "Athletic Complex" in str(vevent["LOCATION"])
    assert str(vevent["UID"]) == f"event-{event.pk}@eren.washu.edu"
    assert str(vevent["URL"]).endswith(event.get_absolute_url())


def test_draft_has_no_ics(client):
    draft = EventPostFactory(status="draft")
    assert client.get(reverse("events:calendar", args=[draft.pk])).status_code == 404


def test_calendar_feed_lists_my_registrations_and_the_link_can_be_revoked(client):
    student = UserFactory()
    client.force_login(student)
    going = EventRegistrationFactory(user=student).event
    EventRegistrationFactory(user=student, status="cancelled", cancelled_at=going.created_at)
    someone_elses = EventRegistrationFactory().event

    client.post(reverse("events:calendar-reset"))
    student.refresh_from_db()
    old_url = reverse("events:calendar-feed", args=[student.calendar_token])
    assert old_url in client.get(reverse("events:mine")).content.decode()

    client.logout()  # calendar apps cannot log in: the token is the key
    response = client.get(old_url)
    assert response.status_code == 200
    titles = [str(vevent["SUMMARY"]) for vevent in parse(response).walk("VEVENT")]
    assert titles == [going.title]
    assert someone_elses.title not in titles

    client.force_login(student)
    client.post(reverse("events:calendar-reset"))
    student.refresh_from_db()
    assert client.get(old_url).status_code == 404
    assert (
        client.get(reverse("events:calendar-feed", args=[student.calendar_token])).status_code
        == 200
    )


def test_the_feed_shows_waitlisted_events_as_tentative(client):
    student = UserFactory(calendar_token="feed-token-for-this-test")
    going = EventRegistrationFactory(user=student).event
    waiting = EventRegistrationFactory(user=student, status="waitlisted").event
    EventRegistrationFactory(event=waiting, status="confirmed")  # someone else has the seat

    response = client.get(reverse("events:calendar-feed", args=[student.calendar_token]))
    statuses = {str(e["SUMMARY"]): str(e["STATUS"]) for e in parse(response).walk("VEVENT")}
    assert statuses == {going.title: "CONFIRMED", waiting.title: "TENTATIVE"}


def test_unknown_feed_token_is_404(client):
    assert client.get(reverse("events:calendar-feed", args=["nope"])).status_code == 404


@pytest.mark.parametrize(
    "title", ["Jazz\rX-INJECTED:1", "Jazz\nX-INJECTED:1", "Jazz\r\nBEGIN:VALARM"]
)
def test_line_breaks_in_a_stored_title_cannot_add_lines_to_the_calendar(client, title):
    # Saved before the services refused line breaks (or by hand): the download still works.
    event = EventPostFactory(title=title)
    response = client.get(reverse("events:calendar", args=[event.pk]))
    assert response.status_code == 200
    lines = response.content.split(b"\r\n")
    assert not any(b"\r" in line or b"\n" in line for line in lines)
    assert not any(line.startswith((b"X-INJECTED", b"BEGIN:VALARM")) for line in lines)
    (vevent,) = parse(response).walk("VEVENT")
    assert str(vevent["SUMMARY"]).startswith("Jazz")
