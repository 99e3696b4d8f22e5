"""Registration questions: the organizer asks, students answer, the roster and CSV show it."""

import csv
import io

import pytest
from django.urls import reverse

from events import services
from events.models import EventQuestion, EventRegistration, RegistrationAnswer
from tests.factories import EventPostFactory, OrganizerFactory, UserFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def event():
    return EventPostFactory(organizer=OrganizerFactory(display_name="Dana Organizer"))


def test_organizer_adds_own_and_preset_questions_and_bad_ones_are_form_errors(client, event):
    client.force_login(event.organizer)
    page = reverse("events:questions", args=[event.pk])

    client.post(page, {"preset": "tshirt"})
    client.post(page, {"label": "Bringing a laptop?", "kind": "yes_no", "required": "on"})
    bad = client.post(page, {"label": "Pick one", "kind": "choice", "choices": "Only one"})
    assert bad.status_code == 200
    assert bad.context["form"].errors["choices"] == ["Give between 2 and 20 options."]

    questions = list(EventQuestion.objects.filter(event=event))
    assert [(q.label, q.kind, q.required) for q in questions] == [
        ("T-shirt size", "choice", False),
        ("Bringing a laptop?", "yes_no", True),
    ]
    assert questions[0].choices == ["XS", "S", "M", "L", "XL", "XXL"]
    # Only the event's organizers: another organizer gets a 403, through the API too.
    client.force_login(OrganizerFactory())
    assert client.post(page, {"preset": "dietary"}).status_code == 403
    response = client.post(
        f"{API}/events/{event.pk}/questions", {"preset": "dietary"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert EventQuestion.objects.filter(event=event).count() == 2


def test_answers_are_checked_shown_on_the_roster_and_csv_and_deleted_on_cancel(client, event):
    size = services.question_add(event_id=event.pk, by=event.organizer, preset="tshirt")
    laptop = services.question_add(
        event_id=event.pk, by=event.organizer, label="Laptop?", kind="yes_no", required=True
    )
    diet = services.question_add(event_id=event.pk, by=event.organizer, preset="dietary")
    student = UserFactory(display_name="Sam Student")
    client.force_login(student)
    detail = client.get(event.get_absolute_url()).content.decode()
    assert "Laptop?" in detail
    assert "T-shirt size (optional)" in detail

    # The API refuses a missing required answer and an answer outside the choices: 422.
    response = client.post(
        f"{API}/events/{event.pk}/registration",
        {"answers": {str(size.pk): "XXXL"}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {
        f"question_{size.pk}",
        f"question_{laptop.pk}",
    }
    assert not EventRegistration.objects.exists()

    # The page: a missing required answer is said, nothing saved; then a good answer.
    refused = client.post(reverse("events:register", args=[event.pk]), follow=True)
    assert "Laptop?: This field is required." in refused.content.decode()
    assert not EventRegistration.objects.exists()
    client.post(
        reverse("events:register", args=[event.pk]),
        {f"question_{size.pk}": "M", f"question_{laptop.pk}": "yes", f"question_{diet.pk}": "=1+1"},
    )
    registration = EventRegistration.objects.get()

    client.force_login(event.organizer)
    roster = client.get(reverse("events:manage", args=[event.pk])).content.decode()
    assert "T-shirt size: M" in roster
    assert "Laptop?: yes" in roster
    rows = list(
        csv.reader(
            io.StringIO(client.get(reverse("events:roster-csv", args=[event.pk])).content.decode())
        )
    )
    assert rows[0][-3:] == ["T-shirt size", "Laptop?", "Dietary needs"]
    assert rows[1][-3:] == ["M", "yes", "'=1+1"]
    api_roster = client.get(f"{API}/events/{event.pk}/roster").json()
    assert [a["value"] for a in api_roster["confirmed"][0]["answers"]] == ["M", "yes", "=1+1"]

    services.registration_cancel(event_id=event.pk, user=student)
    assert not RegistrationAnswer.objects.filter(registration=registration).exists()
