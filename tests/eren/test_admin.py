import pytest
from django.urls import reverse

from events.models import OrganizerMessage
from tests.factories import EventPostFactory, EventRegistrationFactory, ScoreEntryFactory
from users.models import OrganizerRequest, User

pytestmark = pytest.mark.django_db

MODELS = [
    "users_user",
    "events_eventcategory",
    "events_eventpost",
    "events_eventregistration",
    "escore_scoreentry",
    "users_organizerrequest",
    "events_organizermessage",
]


@pytest.fixture
def staff_client(client):
    admin = User.objects.create_superuser(email="admin@wustl.edu", password="x" * 12)
    client.force_login(admin)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_staff_can_list_search_and_open_every_model(staff_client, model):
    registration = EventRegistrationFactory()
    ScoreEntryFactory(user=registration.user, event=registration.event)
    OrganizerRequest.objects.create(user=registration.user, reason="The chess club.")
    OrganizerMessage.objects.create(
        event=registration.event, sent_by=registration.event.organizer, subject="Hi", body="Hi."
    )
    changelist = reverse(f"admin:{model}_changelist")
    assert staff_client.get(changelist).status_code == 200
    assert staff_client.get(changelist, {"q": "wustl"}).status_code == 200
    objects = staff_client.get(changelist).context["cl"].result_list
    assert objects
    change = reverse(f"admin:{model}_change", args=[objects[0].pk])
    assert staff_client.get(change).status_code == 200


def test_staff_can_add_a_user_by_email(staff_client):
    response = staff_client.post(
        reverse("admin:users_user_add"),
        {
            "email": "new@wustl.edu",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email="new@wustl.edu").exists()


def test_students_cannot_open_the_admin(client):
    student = User.objects.create_user(email="s@wustl.edu", password="x" * 12)
    client.force_login(student)
    response = client.get(reverse("admin:events_eventpost_changelist"))
    assert response.status_code == 302
    assert EventPostFactory  # factories import cleanly for the admin tests above
