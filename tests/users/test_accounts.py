"""Sign-up limited to school addresses, verification, profile, organizer requests, deletion."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from escore.models import ScoreEntry
from events import services
from events.models import EmailDelivery, EventPost, EventRegistration
from tests.factories import (
    EventPostFactory,
    OrganizerFactory,
    ScoreEntryFactory,
    UserFactory,
)
from users.models import OrganizerRequest, User
from users.services import organizer_request_decide

pytestmark = pytest.mark.django_db
API = "/api/v1"
PASSWORD = "a-long-campus-passphrase"


def sign_up(client, email: str):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


@pytest.mark.parametrize(
    "email",
    [
        "bear@wustl.edu.evil.com",
        "bear@evilwustl.edu",
        "bear@cs.wustl.edu",  # subdomains only when listed
        "bear@gmail.com",
        "bear@wustl.ed",
        "bear@wustl.\u0435du",  # Cyrillic ie for the e
        "bear@\uff57\uff55\uff53\uff54\uff4c.edu",  # full-width letters
        "bear@xn--wstl-0ra.edu",  # punycode of a look-alike
    ],
)
def test_sign_up_refuses_addresses_outside_the_school_domain(client, email):
    response = sign_up(client, email)
    assert response.status_code == 200
    assert "use your school address (@wustl.edu)" in response.content.decode()
    assert not User.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["bear@wustl.edu.", "b\u0435ar@wustl.edu", "bear@@wustl.edu"])
def test_sign_up_refuses_malformed_addresses(client, email):
    # A trailing dot, a Cyrillic local part: refused as malformed before the domain rule.
    response = sign_up(client, email)
    assert "Enter a valid email address." in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize("email", ["bear@wustl.edu", "Bear@WUSTL.EDU"])
def test_sign_up_with_a_school_address_sends_a_verification_code(client, email):
    response = sign_up(client, email)
    assert response.status_code == 302
    user = User.objects.get()
    assert user.email.lower() == "bear@wustl.edu"
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to[0].lower() == "bear@wustl.edu"
    # Mandatory verification: signing up does not log in.
    assert "_auth_user_id" not in client.session


def test_listed_subdomains_are_accepted(client, settings):
    settings.SIGNUP_EMAIL_DOMAINS = ["wustl.edu", "cs.wustl.edu"]
    assert sign_up(client, "bear@cs.wustl.edu").status_code == 302
    assert User.objects.filter(email="bear@cs.wustl.edu").exists()


def _code(message) -> str:
    return re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", message.body).group(0)


def test_the_emailed_code_verifies_logs_in_and_allows_registering(client):
    response = sign_up(client, "bear@wustl.edu")
    # The code is typed into the browser that signed up (the page the sign-up led to).
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(response["Location"]).status_code == 200
    client.post(response["Location"], {"code": _code(mail.outbox[0])})
    user = User.objects.get()
    assert EmailAddress.objects.get(user=user).verified
    assert client.session["_auth_user_id"] == str(user.pk)

    event = EventPostFactory()
    client.post(reverse("events:register", args=[event.pk]))
    assert EventRegistration.objects.get(event=event, user=user).status == "confirmed"


def test_unverified_users_cannot_log_in(client):
    UserFactory(email="bear@wustl.edu", email_verified=False)
    response = client.post(
        reverse("account_login"), {"login": "bear@wustl.edu", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert "confirm" in response["Location"]


def test_unverified_registration_explains_and_offers_a_code(client):
    student = UserFactory(email="bear@wustl.edu", email_verified=False)
    client.force_login(student)
    event = EventPostFactory()

    response = client.post(reverse("events:register", args=[event.pk]), follow=True)

    assert not EventRegistration.objects.exists()
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("users:verify-email")
    assert "Confirm your school e-mail address" in page
    assert 'name="action_send"' in page
    # The button sends a code through allauth's own e-mail view; typing it in confirms.
    response = client.post(
        reverse("account_email"), {"email": "bear@wustl.edu", "action_send": ""}, follow=True
    )
    assert [m.to for m in mail.outbox] == [["bear@wustl.edu"]]
    client.post(response.redirect_chain[-1][0], {"code": _code(mail.outbox[0])})
    assert EmailAddress.objects.get(user=student).verified
    client.post(reverse("events:register", args=[event.pk]))
    assert EventRegistration.objects.filter(user=student, status="confirmed").exists()


def test_unverified_registration_through_the_api_is_403_email_unverified(client):
    client.force_login(UserFactory(email_verified=False))
    event = EventPostFactory()
    response = client.post(f"{API}/events/{event.pk}/registration")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_unverified"
    assert not EventRegistration.objects.exists()


def test_api_me_describes_the_user(client):
    assert client.get(f"{API}/me").status_code == 401
    student = UserFactory(display_name="Bear", email_verified=False)
    client.force_login(student)
    body = client.get(f"{API}/me").json()
    assert body["email"] == student.email
    assert body["display_name"] == "Bear"
    assert body["email_verified"] is False
    assert body["is_organizer"] is False
    assert body["organizer_request_status"] is None
    assert body["email_reminders"] is True


def test_changing_the_email_keeps_the_old_one_until_the_new_one_is_confirmed(client):
    student = UserFactory(email="bear@wustl.edu")
    client.force_login(student)
    response = client.post(reverse("account_email"), {"email": "bear@gmail.com", "action_add": ""})
    assert "use your school address" in response.content.decode()

    client.post(reverse("account_email"), {"email": "cub@wustl.edu", "action_add": ""})
    student.refresh_from_db()
    assert student.email == "bear@wustl.edu"
    assert mail.outbox[-1].to == ["cub@wustl.edu"]
    client.post(reverse("account_email_verification_sent"), {"code": _code(mail.outbox[-1])})
    student.refresh_from_db()
    assert student.email == "cub@wustl.edu"


def test_password_reset_sends_a_link(client):
    UserFactory(email="bear@wustl.edu")
    client.post(reverse("account_reset_password"), {"email": "bear@wustl.edu"})
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_profile_saves_name_and_leaderboard_choice(client):
    student = UserFactory()
    client.force_login(student)
    url = reverse("users:account")
    response = client.post(
        url, {"display_name": "Bear", "leaderboard_visibility": "pseudonym", "pseudonym": ""}
    )
    assert response.status_code == 200
    assert "Choose a pseudonym" in response.content.decode()

    client.post(
        url, {"display_name": "Bear", "leaderboard_visibility": "pseudonym", "pseudonym": "Cub"}
    )
    student.refresh_from_db()
    assert (student.display_name, student.leaderboard_name) == ("Bear", "Cub")

    client.post(url, {"display_name": "Bear", "leaderboard_visibility": "hidden", "pseudonym": ""})
    student.refresh_from_db()
    assert student.leaderboard_name is None


def test_profile_fields_are_escaped_and_length_checked(client):
    student = UserFactory()
    client.force_login(student)
    url = reverse("users:account")
    client.post(
        url,
        {
            "display_name": "<script>alert(1)</script>",
            "leaderboard_visibility": "public",
            "pseudonym": "",
        },
    )
    page = client.get(url).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    response = client.post(
        url, {"display_name": "x" * 81, "leaderboard_visibility": "public", "pseudonym": ""}
    )
    assert response.status_code == 200
    assert "at most 80 characters" in response.content.decode()
    response = client.post(
        url, {"display_name": "Bear", "leaderboard_visibility": "everyone", "pseudonym": ""}
    )
    assert "Select a valid choice" in response.content.decode()


def test_student_requests_the_organizer_role_and_staff_approve_it(client, admin_client):
    student = UserFactory()
    client.force_login(student)
    client.post(reverse("users:organizer-request"), {"reason": "I run the chess club."})
    client.post(reverse("users:organizer-request"), {"reason": "Again."})
    request = OrganizerRequest.objects.get()
    assert request.status == "pending"
    assert "Waiting for staff" in client.get(reverse("users:account")).content.decode()

    admin_client.post(
        reverse("admin:users_organizerrequest_changelist"),
        {"action": "approve", "_selected_action": [request.pk]},
    )
    request.refresh_from_db()
    student.refresh_from_db()
    assert request.status == "approved"
    assert request.decided_at is not None
    assert student.is_organizer
    assert client.get(reverse("events:organize")).status_code == 200


def test_rejected_request_leaves_the_role_alone_and_may_be_asked_again(client, admin_user):
    student = UserFactory()
    client.force_login(student)
    client.post(reverse("users:organizer-request"), {"reason": "Please."})
    organizer_request_decide(
        request_id=OrganizerRequest.objects.get().pk, by=admin_user, approve=False
    )
    student.refresh_from_db()
    assert not student.is_organizer
    page = client.get(reverse("users:account")).content.decode()
    assert "Not approved" in page
    client.post(reverse("users:organizer-request"), {"reason": "The chess club again."})
    assert OrganizerRequest.objects.filter(status="pending").count() == 1


def test_deleting_a_student_frees_the_seat_and_removes_the_ledger(
    client, celery_eager, side_effects
):
    event = EventPostFactory(capacity=1)
    leaving, waiting = UserFactory(), UserFactory(email="waiting@wustl.edu")
    services.registration_create(event_id=event.pk, user=leaving)
    services.registration_create(event_id=event.pk, user=waiting)
    past = EventPostFactory()
    ScoreEntryFactory(user=leaving, event=past)
    client.force_login(leaving)
    mail.outbox.clear()

    response = client.post(reverse("users:delete"), {"password": "wrong"})
    assert "That is not your password." in response.content.decode()
    with side_effects(execute=True):
        client.post(reverse("users:delete"), {"password": "correct-horse-battery"})

    assert not User.objects.filter(pk=leaving.pk).exists()
    assert not ScoreEntry.objects.filter(user_id=leaving.pk).exists()
    assert EventRegistration.objects.get(event=event, user=waiting).status == "confirmed"
    event.refresh_from_db()
    assert (event.seats_taken, event.waitlist_count) == (1, 0)
    assert [m.to for m in mail.outbox] == [["waiting@wustl.edu"]]
    assert "_auth_user_id" not in client.session


def test_an_organizer_with_upcoming_events_must_hand_them_over_first(client):
    organizer = OrganizerFactory()
    EventPostFactory(organizer=organizer)
    client.force_login(organizer)
    response = client.post(reverse("users:delete"), {"password": "correct-horse-battery"})
    assert "Cancel them, or ask staff" in response.content.decode()
    assert User.objects.filter(pk=organizer.pk, is_active=True).exists()


def test_a_former_organizer_is_anonymised_and_their_past_events_kept(client):
    organizer = OrganizerFactory(email="prof@wustl.edu", display_name="Prof")
    event = EventPostFactory(
        organizer=organizer, status=EventPost.Status.CANCELLED, cancellation_reason="Ill."
    )
    EmailDelivery.objects.create(
        key="organizer-message:1:1", kind="organizer_message", user=organizer,
        recipient=organizer.email,
    )  # fmt: skip
    client.force_login(organizer)
    client.post(reverse("users:delete"), {"password": "correct-horse-battery"})

    organizer.refresh_from_db()
    assert not EmailDelivery.objects.filter(user=organizer).exists()
    assert organizer.email == f"deleted-{organizer.pk}@invalid"
    assert organizer.display_name == "Former organizer"
    assert not organizer.is_active
    assert not organizer.has_usable_password()
    assert not EmailAddress.objects.filter(user=organizer).exists()
    assert EventPost.objects.get(pk=event.pk).organizer_id == organizer.pk


@pytest.mark.parametrize(
    ("name", "logged_in"),
    [
        ("account_login", False),
        ("account_signup", False),
        ("account_reset_password", False),
        ("account_email", True),
        ("account_change_password", True),
        ("account_logout", True),
        ("users:account", True),
        ("users:verify-email", True),
        ("users:delete", True),
    ],
)
def test_account_pages_use_the_site_layout(client, name, logged_in):
    if logged_in:
        client.force_login(UserFactory())
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="site-header"' in page
    assert page.count("<html") == 1
