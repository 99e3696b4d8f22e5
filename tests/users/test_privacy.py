"""Privacy by default (issue 18): pseudonyms on the leaderboard, "download my data", and
closing an account that removes or anonymises everything personal, in one transaction."""

import importlib
import json

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.sessions.models import Session
from django.db import DatabaseError, connection, models
from django.test import Client
from django.urls import reverse

from escore.models import ScoreEntry
from events import services
from events.models import EventPost, EventRegistration, OrganizerMessage
from tests.factories import EventPostFactory, OrganizerFactory, ScoreEntryFactory, UserFactory
from users.models import OrganizerRequest, User
from users.services import user_delete

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


# --- The leaderboard ------------------------------------------------------------------------


def test_new_accounts_show_a_pseudonym_until_they_opt_in():
    student = UserFactory(display_name="Grace Hopper")
    assert student.leaderboard_visibility == User.LeaderboardVisibility.PSEUDONYM
    assert student.pseudonym
    assert student.leaderboard_name == student.pseudonym


def test_showing_a_name_needs_a_name(client):
    student = UserFactory(display_name="")
    client.force_login(student)
    response = client.post(
        reverse("users:account"),
        {"display_name": "", "leaderboard_visibility": "public", "pseudonym": "Cub"},
    )
    assert "Add your name to show it" in response.content.decode()
    student.refresh_from_db()
    assert student.leaderboard_visibility == "pseudonym"


def test_the_migration_moves_everyone_who_showed_a_name_to_a_pseudonym(capsys):
    shown = UserFactory(leaderboard_visibility="public", pseudonym="")
    hidden = UserFactory(leaderboard_visibility="hidden", pseudonym="")
    chosen = UserFactory(leaderboard_visibility="pseudonym", pseudonym="Night Owl")
    migration = importlib.import_module("users.migrations.0006_leaderboard_private_by_default")
    migration.pseudonyms_for_everyone(apps, None)
    for user in (shown, hidden, chosen):
        user.refresh_from_db()
    assert shown.leaderboard_visibility == "pseudonym"
    assert shown.pseudonym
    assert hidden.leaderboard_visibility == "hidden"
    assert hidden.pseudonym
    assert chosen.pseudonym == "Night Owl"
    assert "1 account(s) now show a pseudonym" in capsys.readouterr().out


# --- Download my data -----------------------------------------------------------------------


def test_a_student_downloads_everything_kept_about_them(client, django_assert_max_num_queries):
    student = UserFactory(email="bear@wustl.edu", display_name="Bear")
    student.calendar_token_rotate()
    registration = services.registration_create(event_id=EventPostFactory().pk, user=student)
    ScoreEntryFactory(user=student, event=registration.event, points=10)
    OrganizerRequest.objects.create(user=student, reason="The chess club.")
    TOTP.activate(student, generate_totp_secret())
    client.force_login(student)

    with django_assert_max_num_queries(14):
        response = client.get(reverse("users:data-export"))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="eren-my-data.json"'
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["email"] == "bear@wustl.edu"
    assert data["account"]["calendar_feed_enabled"] is True
    assert data["email_addresses"] == [
        {"email": "bear@wustl.edu", "verified": True, "primary": True}
    ]
    assert [r["event"]["id"] for r in data["registrations"]] == [registration.event_id]
    assert [e["points"] for e in data["score_entries"]] == [10]
    assert data["organizer_requests"][0]["reason"] == "The chess club."
    assert [f["type"] for f in data["second_factors"]] == ["totp"]
    # Credentials stay out: the password hash, the feed token, the authenticator's secret.
    text = response.content.decode()
    assert student.password not in text
    assert student.calendar_token not in text
    assert "secret" not in text


def test_downloading_needs_a_login(client):
    assert client.get(reverse("users:data-export")).status_code == 302


# --- Closing an account ---------------------------------------------------------------------


def _text_columns() -> list[tuple[type[models.Model], str]]:
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
    ]


def assert_nowhere_in_the_database(*texts: str) -> None:
    """No text column of any table holds these strings (sessions are encoded: decoded here)."""
    for model, name in _text_columns():
        for text in texts:
            found = model._default_manager.filter(**{f"{name}__icontains": text})
            assert not found.exists(), (model.__name__, name, text)
    for session in Session.objects.all():
        decoded = json.dumps(session.get_decoded())
        assert not any(text in decoded for text in texts)


def _admin_edits(staff: User, user: User, registration: EventRegistration) -> None:
    """Staff changed the account and its registration: the admin's log now names it."""
    LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=[user, registration],
        action_flag=CHANGE,
        change_message=f"Checked {user.email}",
    )


def test_closing_an_account_leaves_nothing_personal_behind(client):
    student = UserFactory(email="leaving.bear@wustl.edu", display_name="Leaving Bear")
    registration = services.registration_create(event_id=EventPostFactory().pk, user=student)
    ScoreEntryFactory(user=student, event=None, reason="adjustment", note="Ran the fair")
    OrganizerRequest.objects.create(user=student, reason="Leaving Bear's chess club.")
    phone = Client()
    phone.post(reverse("account_login"), {"login": student.email, "password": PASSWORD})
    assert phone.session["_auth_user_id"] == str(student.pk)
    TOTP.activate(student, generate_totp_secret())
    # A login waiting for its second factor holds the address in its session too.
    Client().post(reverse("account_login"), {"login": student.email, "password": PASSWORD})
    _admin_edits(UserFactory(is_staff=True), student, registration)
    client.force_login(student)

    response = client.post(reverse("users:delete"), {"password": PASSWORD})

    assert response.status_code == 302
    assert not User.objects.filter(pk=student.pk).exists()
    assert not Authenticator.objects.filter(user_id=student.pk).exists()
    assert_nowhere_in_the_database("leaving.bear@wustl.edu", "Leaving Bear")
    # Every session ended, the phone's too.
    assert phone.get(reverse("users:account")).status_code == 302


def test_a_former_organizer_keeps_their_events_but_nothing_personal(client):
    organizer = OrganizerFactory(email="prof.lee@wustl.edu", display_name="Professor Lee")
    event = EventPostFactory(organizer=organizer, status=EventPost.Status.CANCELLED,
                             cancellation_reason="Ill.")  # fmt: skip
    OrganizerMessage.objects.create(
        event=event, sent_by=organizer, subject="Reach me", body="Call Professor Lee at 555-0100."
    )
    client.force_login(organizer)

    client.post(reverse("users:delete"), {"password": PASSWORD})

    organizer.refresh_from_db()
    assert not organizer.is_active
    assert EventPost.objects.get(pk=event.pk).organizer_id == organizer.pk
    assert_nowhere_in_the_database("prof.lee@wustl.edu", "Professor Lee", "555-0100")


def test_a_failure_while_closing_changes_nothing():
    event = EventPostFactory(capacity=1)
    leaving, waiting = UserFactory(), UserFactory()
    services.registration_create(event_id=event.pk, user=leaving)
    services.registration_create(event_id=event.pk, user=waiting)
    ScoreEntryFactory(user=leaving, event=None, reason="adjustment")
    with connection.cursor() as cursor:
        # A failure at the very last step, the row's delete, as a real database error.
        cursor.execute(
            """
            CREATE FUNCTION pg_temp.refuse() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'refused for the test'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse BEFORE DELETE ON users_user
            FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse();
            """
        )
    with pytest.raises(DatabaseError):
        user_delete(user=leaving)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse ON users_user")

    event.refresh_from_db()
    assert (event.seats_taken, event.waitlist_count) == (1, 1)
    assert EventRegistration.objects.get(event=event, user=leaving).status == "confirmed"
    assert EventRegistration.objects.get(event=event, user=waiting).status == "waitlisted"
    assert ScoreEntry.objects.filter(user=leaving).exists()
    assert EmailAddress.objects.filter(user=leaving).exists()


def test_staff_close_accounts_through_the_same_service(admin_client):
    event = EventPostFactory(capacity=1)
    leaving, waiting = UserFactory(), UserFactory()
    services.registration_create(event_id=event.pk, user=leaving)
    services.registration_create(event_id=event.pk, user=waiting)
    changelist = reverse("admin:users_user_changelist")
    assert (
        admin_client.post(reverse("admin:users_user_delete", args=[leaving.pk])).status_code == 403
    )
    response = admin_client.post(
        changelist, {"action": "close_accounts", "_selected_action": [leaving.pk]}, follow=True
    )
    assert "1 account(s) closed" in response.content.decode()
    assert not User.objects.filter(pk=leaving.pk).exists()
    assert EventRegistration.objects.get(event=event, user=waiting).status == "confirmed"
