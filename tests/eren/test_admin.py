import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from escore.models import ScoreDispute
from events.models import EmailDelivery, EventRegistration, OrganizerMessage
from tests.conftest import sign_in
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    OrganizerFactory,
    ScoreEntryFactory,
    UserFactory,
)
from users.models import OrganizerRequest, User

pytestmark = pytest.mark.django_db

MODELS = [
    "users_user",
    "events_eventcategory",
    "events_eventpost",
    "events_eventregistration",
    "escore_scoreentry",
    "escore_scoredispute",
    "users_organizerrequest",
    "events_organizermessage",
    "events_emaildelivery",
]


@pytest.fixture
def staff_client(client):
    admin = User.objects.create_superuser(email="admin@wustl.edu", password="x" * 12)
    sign_in(client, admin)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_staff_can_list_search_and_open_every_model(staff_client, model):
    registration = EventRegistrationFactory()
    ScoreEntryFactory(user=registration.user, event=registration.event)
    ScoreDispute.objects.create(user=registration.user, event=registration.event, note="Hi.")
    OrganizerRequest.objects.create(user=registration.user, reason="The chess club.")
    OrganizerMessage.objects.create(
        event=registration.event, sent_by=registration.event.organizer, subject="Hi", body="Hi."
    )
    EmailDelivery.objects.create(
        key=f"registration:{registration.pk}:confirmed",
        kind=EmailDelivery.Kind.CONFIRMED,
        user=registration.user,
        registration=registration,
        recipient=registration.user.email,
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


# --- Writes go through the services -------------------------------------------------------


def _change_form_data(staff_client, event) -> dict:
    """What the browser would post back: the change form's own fields, as rendered."""
    response = staff_client.get(reverse("admin:events_eventpost_change", args=[event.pk]))
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    inline = response.context["inline_admin_formsets"][0].formset
    data.update(
        {
            f"{inline.prefix}-TOTAL_FORMS": str(inline.total_form_count()),
            f"{inline.prefix}-INITIAL_FORMS": str(inline.initial_form_count()),
        }
    )
    data.update({f"{inline.prefix}-{i}-id": str(f.instance.pk) for i, f in enumerate(inline)})
    data.update({f"{inline.prefix}-{i}-event": str(event.pk) for i, _ in enumerate(inline)})
    return data


def test_saving_an_event_in_the_admin_never_writes_the_seat_counters(staff_client):
    event = EventPostFactory(capacity=1)
    data = _change_form_data(staff_client, event)
    new_organizer = OrganizerFactory()
    data.update(organizer=new_organizer.pk, capacity=500, status="cancelled", title="Renamed")
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.post(
            reverse("admin:events_eventpost_change", args=[event.pk]), data
        )
    assert response.status_code == 302
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "events_eventpost"')]
    assert updates
    # A full-row save would write counters read before a concurrent registration: oversell.
    assert not any('"seats_taken"' in sql or '"waitlist_count"' in sql for sql in updates)
    event.refresh_from_db()
    assert event.organizer == new_organizer
    # Everything else is read-only here: edits happen on the organizer pages.
    assert (event.capacity, event.status, event.title) == (1, "published", event.title)
    assert event.title != "Renamed"


def test_an_event_can_only_go_to_an_organizer(staff_client):
    event = EventPostFactory()
    data = _change_form_data(staff_client, event)
    student = UserFactory()
    data.update(organizer=student.pk)
    response = staff_client.post(reverse("admin:events_eventpost_change", args=[event.pk]), data)
    assert response.status_code == 200
    assert "Choose an active organizer" in response.content.decode()
    event.refresh_from_db()
    assert event.organizer != student


def test_events_and_registrations_cannot_be_added_or_deleted_in_the_admin(staff_client):
    registration = EventRegistrationFactory()
    for model in ("events_eventpost", "events_eventregistration"):
        assert staff_client.get(reverse(f"admin:{model}_add")).status_code == 403
    event_delete = reverse("admin:events_eventpost_delete", args=[registration.event_id])
    assert staff_client.post(event_delete, {"post": "yes"}).status_code == 403
    registration_change = reverse("admin:events_eventregistration_change", args=[registration.pk])
    response = staff_client.post(
        registration_change, {"event": registration.event_id, "user": registration.user_id}
    )
    assert response.status_code == 403
    assert EventRegistration.objects.filter(pk=registration.pk, status="confirmed").exists()


def test_staff_check_in_from_the_admin_goes_through_the_service(staff_client):
    starts_at = timezone.now() + dt.timedelta(minutes=30)
    event = EventPostFactory(starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=1))
    own = EventRegistrationFactory(event=event, user=event.organizer)
    student = EventRegistrationFactory(event=event)
    changelist = reverse("admin:events_eventregistration_changelist")
    response = staff_client.post(
        changelist,
        {"action": "check_in", "_selected_action": [student.pk, own.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 registration(s) checked in" in page
    assert "cannot be checked in to their own event" in page
    student.refresh_from_db()
    own.refresh_from_db()
    assert student.checked_in_at is not None
    assert own.checked_in_at is None


# --- A registration with a status nobody knows --------------------------------------------


def test_the_database_refuses_a_registration_without_a_known_status():
    event = EventPostFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        EventRegistration.objects.create(event=event, user=UserFactory(), status="")


def test_the_migration_cancels_rows_with_an_unknown_status_and_the_roster_shows_them(client):
    event = EventPostFactory()
    registration = EventRegistrationFactory(event=event)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE events_eventregistration DROP CONSTRAINT registration_status_known"
        )
        cursor.execute(
            "UPDATE events_eventregistration SET status = '' WHERE id = %s", [registration.pk]
        )
    migration = importlib.import_module("events.migrations.0012_registration_status_known")
    with connection.schema_editor() as schema_editor:
        migration.void_unknown_statuses(apps, schema_editor)
        (known,) = [
            constraint
            for constraint in EventRegistration._meta.constraints
            if constraint.name == "registration_status_known"
        ]
        schema_editor.add_constraint(EventRegistration, known)
    registration.refresh_from_db()
    assert registration.status == "cancelled"
    assert registration.cancelled_at is not None
    client.force_login(event.organizer)
    response = client.get(reverse("events:manage", args=[event.pk]))
    assert response.status_code == 200
