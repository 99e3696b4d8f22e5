"""Accounts against abuse (issue 18): ASVS level 1 password rules, one account per mailbox,
login limits without lockouts or password oracles, sign-up pre-hijacking, notices of
changes, and multi-factor authentication for staff."""

import datetime as dt
import importlib
import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.apps import apps
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from tests.factories import OrganizerFactory, UserFactory
from users.addresses import email_canonical
from users.models import User

pytestmark = pytest.mark.django_db


PASSWORD = "a-long-campus-passphrase"


def sign_up(client, email: str, password: str = PASSWORD, **extra):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": password, "password2": password},
        **extra,
    )


# --- ASVS level 1: passwords and reset links ----------------------------------------------


def test_passwords_need_twelve_characters(client):
    response = sign_up(client, "bear@wustl.edu", password="elevenchars")
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not User.objects.exists()
    assert sign_up(client, "bear@wustl.edu", password="twelve chars").status_code == 302


class _Later(PasswordResetTokenGenerator):
    def __init__(self, minutes: int) -> None:
        super().__init__()
        self.minutes = minutes

    def _now(self):
        return super()._now() + dt.timedelta(minutes=self.minutes)


def test_a_password_reset_link_works_for_an_hour():
    user = UserFactory()
    token = default_token_generator.make_token(user)
    assert _Later(minutes=59).check_token(user, token)
    assert not _Later(minutes=61).check_token(user, token)
    assert mail.outbox == []


# --- One mailbox, one account ---------------------------------------------------------------


FACTORY_PASSWORD = "correct-horse-battery"


def log_in(client, email: str, password: str = FACTORY_PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


@pytest.mark.parametrize(
    "typed",
    ["student@wustl.edu", "Student@WUSTL.edu", "\u017ftudent@wustl.edu", "student+x@wustl.edu"],
)
def test_spellings_of_one_mailbox_log_in_to_its_one_account(client, typed):
    user = UserFactory(email="student@wustl.edu")
    response = log_in(client, typed)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("typed", ["\u0131van@wustl.edu", "ivan@wu\u0455tl.edu"])
def test_look_alikes_that_are_another_address_log_in_to_nothing(client, typed):
    # PostgreSQL's UPPER of the dotless i is 'I': a case-insensitive match let the dotless
    # address log in as ivan@, and allauth then mailed a confirmation link to the look-alike.
    UserFactory(email="ivan@wustl.edu")
    response = log_in(client, typed)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert mail.outbox == []
    assert list(EmailAddress.objects.values_list("email", flat=True)) == ["ivan@wustl.edu"]


def test_a_tagged_address_cannot_open_a_second_account(client):
    owner = UserFactory(email="alice@wustl.edu")
    for tag in ("alice+1@wustl.edu", "Alice+seats@WUSTL.EDU"):
        response = sign_up(client, tag)
        # The page looks like any sign-up (no enumeration); the owner is told by e-mail.
        assert response.status_code == 302
    assert list(User.objects.values_list("pk", flat=True)) == [owner.pk]
    assert {tuple(message.to) for message in mail.outbox} == {("alice@wustl.edu",)}


def test_a_new_address_is_stored_in_its_canonical_form(client):
    sign_up(client, "Bear+Eren@WUSTL.edu")
    assert User.objects.get().email == "bear@wustl.edu"
    assert EmailAddress.objects.get().email == "bear@wustl.edu"
    assert mail.outbox[0].to == ["bear@wustl.edu"]


def test_password_reset_mails_the_canonical_address_only(client):
    UserFactory(email="alice@wustl.edu")
    client.post(reverse("account_reset_password"), {"email": "Alice+x@wustl.edu"})
    assert [message.to for message in mail.outbox] == [["alice@wustl.edu"]]


def test_another_students_mailbox_cannot_become_a_second_accounts_address(client):
    UserFactory(email="alice@wustl.edu")
    mallory = UserFactory(email="mallory@wustl.edu")
    client.force_login(mallory)
    client.post(reverse("account_email"), {"email": "alice+m@wustl.edu", "action_add": ""})
    # Alice is asked by e-mail; whatever she does with it, the mailbox stays hers alone.
    (request,) = mail.outbox
    assert request.to == ["alice@wustl.edu"]
    act_on_every_message(Client())
    mallory.refresh_from_db()
    assert mallory.email == "mallory@wustl.edu"
    assert not EmailAddress.objects.filter(user=mallory, verified=True, email__startswith="alice")


def test_the_database_refuses_a_second_spelling_of_a_mailbox():
    UserFactory(email="alice@wustl.edu")
    for email in ("Alice@wustl.edu", "alice+2@wustl.edu"):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.bulk_create([User(email=email)])


def test_staff_adding_a_user_store_the_canonical_address(admin_client):
    response = admin_client.post(
        reverse("admin:users_user_add"),
        {"email": "New+Tag@WUSTL.edu", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert User.objects.filter(email="new@wustl.edu").exists()


def test_the_migration_keeps_one_account_per_mailbox_and_retires_the_rest(capsys):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE users_user DROP CONSTRAINT user_email_canonical")
    first = UserFactory(email="Alice@wustl.edu")  # joined first, address not canonical
    verified = UserFactory(email="alice+2@wustl.edu")
    unverified = UserFactory(email="alice+3@wustl.edu", email_verified=False)
    staff = UserFactory(email="Boss+x@wustl.edu", is_staff=True, email_verified=False)
    boss_copy = UserFactory(email="boss@wustl.edu")
    other = UserFactory(email="Carol@WUSTL.edu")
    migration = importlib.import_module("users.migrations.0005_one_account_per_mailbox")
    migration.one_account_per_mailbox(apps, None)

    for user in (first, verified, unverified, staff, boss_copy, other):
        user.refresh_from_db()
    # alice@: nobody was canonical already; the first confirmed account to join keeps it.
    assert first.email == "alice@wustl.edu"
    assert first.is_active
    for retired in (verified, unverified, boss_copy):
        assert retired.email == f"duplicate-{retired.pk}@invalid"
        assert not retired.is_active
        assert not retired.has_usable_password()
        assert not EmailAddress.objects.filter(user=retired).exists()
    # Staff keep their mailbox over a canonical student account.
    assert staff.email == "boss@wustl.edu"
    assert staff.is_active
    assert other.email == "carol@wustl.edu"
    assert EmailAddress.objects.get(user=first).email == "alice@wustl.edu"
    report = capsys.readouterr().out
    assert f"user {verified.pk} (alice+2@wustl.edu): the mailbox stays with user {first.pk}" in (
        report
    )


# --- Login, sign-up and reset limits --------------------------------------------------------


@pytest.fixture
def account_limits(settings):
    """Set some of allauth's limits for one test: account_limits(login_failed="3/h/key")."""

    def set_limits(**rates: str) -> None:
        settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, **rates}

    return set_limits


TOO_MANY_LOGINS = "Too many failed login attempts"


def assert_refused_login(response) -> None:
    assert response.status_code == 200
    assert TOO_MANY_LOGINS in response.content.decode()


def test_logins_are_limited_per_ip(client, account_limits):
    account_limits(login="3/h/ip")
    for number in range(3):
        assert log_in(client, f"someone{number}@wustl.edu", "wrong").status_code == 200
    response = log_in(client, "someone-else@wustl.edu", "wrong")
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert log_in(client, "x@wustl.edu", "wrong", REMOTE_ADDR="10.1.2.3").status_code == 200


def test_showing_the_login_form_is_not_counted(client, account_limits):
    account_limits(login="1/h/ip")
    for _ in range(3):
        assert client.get(reverse("account_login")).status_code == 200
    assert log_in(client, "a@wustl.edu", "wrong").status_code == 200


@pytest.mark.parametrize(
    "spellings",
    [
        ["target@wustl.edu", "Target@WUSTL.edu", "target+1@wustl.edu"],
        ["target@wustl.edu", "TARGET+x@WUSTL.EDU"],
        ["\u017ftudent@wustl.edu", "student@wustl.edu", "STUDENT@wustl.edu"],
    ],
)
def test_failed_logins_count_per_mailbox_whatever_the_spelling(client, account_limits, spellings):
    account_limits(login_failed="3/h/key")
    email = email_canonical(spellings[0])
    UserFactory(email=email)
    typed = (spellings * 3)[:3]
    for number, spelling in enumerate(typed):
        response = log_in(client, spelling, "wrong", REMOTE_ADDR=f"10.0.0.{number + 1}")
        assert TOO_MANY_LOGINS not in response.content.decode()
    assert_refused_login(log_in(client, spellings[-1], "wrong", REMOTE_ADDR="10.0.0.99"))
    assert log_in(client, "other@wustl.edu", "wrong").status_code == 200


def test_a_correct_password_gets_the_same_answer_as_a_wrong_one_while_limited(
    client, account_limits
):
    account_limits(login_failed="2/h/key")
    user = UserFactory()
    log_in(client, user.email, "wrong")
    log_in(client, user.email, "wrong")
    wrong = log_in(client, user.email, "wrong-again")
    right = log_in(client, user.email)
    look_alike = log_in(client, "\u017f" + user.email[1:] if user.email[0] == "s" else user.email)
    for response in (wrong, right, look_alike):
        assert_refused_login(response)
    assert "_auth_user_id" not in client.session
    assert mail.outbox == []


def test_failing_on_purpose_cannot_lock_a_student_out_of_their_own_browser(client, account_limits):
    account_limits(login_failed="3/h/key")
    student = UserFactory()
    assert log_in(client, student.email).status_code == 302  # the laptop they use
    client.post(reverse("account_logout"))
    for number in range(10):
        attacker = Client(REMOTE_ADDR=f"203.0.113.{number}")
        log_in(attacker, student.email, "guess")
    # Browsers that never signed in to the account are locked out of it for now...
    assert_refused_login(log_in(Client(), student.email))
    # ...but the student's own browser still gets in with the right password.
    response = log_in(client, student.email)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(student.pk)


def test_a_known_browser_has_its_own_failed_login_count(client, account_limits):
    account_limits(login_failed="2/h/key")
    student = UserFactory()
    log_in(client, student.email)
    client.post(reverse("account_logout"))
    # A stolen device cookie buys no more guesses than any other browser.
    log_in(client, student.email, "wrong")
    log_in(client, student.email, "wrong")
    assert_refused_login(log_in(client, student.email))
    # The count of browsers that never signed in is separate.
    assert log_in(Client(), student.email).status_code == 302


def test_a_device_cookie_names_one_account_only(client, account_limits):
    account_limits(login_failed="2/h/key")
    alice, bob = UserFactory(), UserFactory()
    log_in(client, alice.email)
    client.post(reverse("account_logout"))
    for _ in range(2):
        log_in(Client(), bob.email, "wrong")
    # Alice's browser is not a known browser for Bob's account.
    assert_refused_login(log_in(client, bob.email))


def test_students_behind_one_campus_address_can_all_sign_up(client):
    # The defaults: one campus NAT address for everyone.
    for number in range(25):
        response = sign_up(Client(REMOTE_ADDR="198.51.100.7"), f"first-year{number}@wustl.edu")
        assert response.status_code == 302, number
    assert User.objects.count() == 25


def test_sign_ups_are_limited_per_ip(client, account_limits):
    account_limits(signup="2/h/ip")
    for number in range(2):
        assert sign_up(client, f"new{number}@wustl.edu").status_code == 302
        client.logout()
    response = sign_up(client, "new9@wustl.edu")
    assert response.status_code == 429
    assert not User.objects.filter(email="new9@wustl.edu").exists()


def test_sign_ups_naming_one_address_are_limited_so_its_owner_is_not_flooded(account_limits):
    account_limits(signup_email="2/h/key")
    UserFactory(email="victim@wustl.edu")
    spellings = ["victim@wustl.edu", "Victim+1@wustl.edu", "victim+2@wustl.edu"]
    for number, spelling in enumerate(spellings):
        response = sign_up(Client(REMOTE_ADDR=f"10.3.0.{number}"), spelling)
    assert response.status_code == 200
    assert "too many sign-ups with this address" in response.content.decode()
    # One "you already have an account" e-mail: allauth also holds repeats back 3 minutes.
    assert len(mail.outbox) == 1
    assert User.objects.count() == 1


def test_password_resets_are_limited_per_mailbox_whatever_the_spelling(account_limits):
    account_limits(reset_password="20/h/ip,2/h/key")
    UserFactory(email="victim@wustl.edu")
    url = reverse("account_reset_password")
    statuses = [
        Client(REMOTE_ADDR=f"10.4.0.{number}").post(url, {"email": spelling}).status_code
        for number, spelling in enumerate(
            ["victim@wustl.edu", "VICTIM+a@wustl.edu", "victim+b@wustl.edu", "victim@wustl.edu"]
        )
    ]
    assert statuses == [302, 302, 429, 429]
    assert [message.to for message in mail.outbox] == [["victim@wustl.edu"]] * 2


def test_a_password_reset_for_an_unknown_address_mails_nobody(client):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@wustl.edu"})
    assert response.status_code == 302  # the same answer as for a real account
    assert mail.outbox == []


def test_a_password_reset_lifts_the_lock_for_the_browser_it_was_made_in(client, account_limits):
    account_limits(login_failed="2/h/key")
    student = UserFactory()
    for _ in range(2):
        log_in(Client(), student.email, "wrong")
    assert_refused_login(log_in(client, student.email))
    client.post(reverse("account_reset_password"), {"email": student.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    form_url = client.get(link.group(1)).url
    new_password = "a-brand-new-pass-phrase"
    client.post(form_url, {"password1": new_password, "password2": new_password})
    assert log_in(client, student.email, new_password).status_code == 302


def test_the_admin_has_no_password_form_of_its_own(client):
    # Staff sign in on the site, through its limits and its second factor.
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    response = client.post(reverse("admin:login"), {"username": "a@wustl.edu", "password": "x"})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# --- Sign-up pre-hijacking ------------------------------------------------------------------


ATTACKER_PASSWORD = "attacker-chosen-passphrase"
CODE = r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b"  # allauth's verification codes


def act_on_every_message(victim: Client) -> None:
    """The victim does whatever their mail invites them to, in their own browser."""
    for message in mail.outbox:
        for path in re.findall(r"https?://[^/\s]+(/\S+)", message.body):
            victim.get(path)
            victim.post(path)
        for code in re.findall(CODE, message.body):
            victim.post(reverse("account_email_verification_sent"), {"code": code})


def test_an_attacker_who_signs_up_first_with_my_address_never_gets_in(client):
    attacker = Client()
    sign_up(attacker, "victim@wustl.edu", password=ATTACKER_PASSWORD)
    victim = Client()
    act_on_every_message(victim)
    response = log_in(Client(), "victim@wustl.edu", ATTACKER_PASSWORD)
    assert "_auth_user_id" not in attacker.session
    assert response.status_code != 302 or "verif" in response["Location"]
    assert not EmailAddress.objects.filter(email="victim@wustl.edu", verified=True).exists()


def test_the_real_owner_takes_the_address_back_and_the_attackers_password_dies(account_limits):
    # Days apart in real life; allauth would hold a second code back for 10 seconds.
    account_limits(confirm_email=None)
    sign_up(Client(), "victim@wustl.edu", password=ATTACKER_PASSWORD)
    mail.outbox.clear()
    # The victim signs up later: told by e-mail that an account exists, they reset its password.
    victim = Client()
    sign_up(victim, "victim@wustl.edu")
    assert User.objects.count() == 1
    assert "Account Already Exists" in mail.outbox[-1].subject
    victim = Client()
    victim.post(reverse("account_reset_password"), {"email": "victim@wustl.edu"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body)
    form_url = victim.get(link.group(1)).url
    victim.post(form_url, {"password1": PASSWORD, "password2": PASSWORD})
    # Logging in asks for a code sent to the mailbox, typed into this browser.
    mail.outbox.clear()
    response = log_in(victim, "victim@wustl.edu", PASSWORD)
    assert response.status_code == 302
    (code,) = re.findall(CODE, mail.outbox[0].body)
    victim.post(reverse("account_email_verification_sent"), {"code": code})
    assert victim.session["_auth_user_id"] == str(User.objects.get().pk)
    assert EmailAddress.objects.get(email="victim@wustl.edu").verified
    attacker = Client()
    log_in(attacker, "victim@wustl.edu", ATTACKER_PASSWORD)
    assert "_auth_user_id" not in attacker.session


# --- Notices of changes -----------------------------------------------------------------------


def test_a_password_change_is_reported_to_the_account_address(client):
    student = UserFactory(email="bear@wustl.edu")
    client.force_login(student)
    new_password = "another-long-passphrase"
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": FACTORY_PASSWORD, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    (notice,) = mail.outbox
    assert notice.to == ["bear@wustl.edu"]
    assert "password" in notice.subject.lower()


def test_a_password_reset_is_reported_after_it_is_done(client):
    UserFactory(email="bear@wustl.edu")
    client.post(reverse("account_reset_password"), {"email": "bear@wustl.edu"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    form_url = client.get(link.group(1)).url
    client.post(form_url, {"password1": PASSWORD, "password2": PASSWORD})
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["bear@wustl.edu"]
    assert "password" in mail.outbox[1].subject.lower()


def test_a_new_address_is_reported_to_the_old_one(client):
    student = UserFactory(email="bear@wustl.edu")
    client.force_login(student)
    client.post(reverse("account_email"), {"email": "cub@wustl.edu", "action_add": ""})
    (code,) = re.findall(CODE, mail.outbox[0].body)
    client.post(reverse("account_email_verification_sent"), {"code": code})
    student.refresh_from_db()
    assert student.email == "cub@wustl.edu"
    notices = [message for message in mail.outbox[1:] if message.to == ["bear@wustl.edu"]]
    assert notices, [(message.to, message.subject) for message in mail.outbox]
    assert "cub@wustl.edu" in notices[0].body


# --- A second factor for staff ---------------------------------------------------------------


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_staff_without_a_second_factor_must_set_one_up_before_anything_else(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert log_in(client, staff.email).status_code == 302  # no factor yet: password only
    for path in (reverse("admin:index"), reverse("events:organize"), reverse("events:list")):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("mfa_index"))
    response = client.get("/api/v1/me")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_required"

    # Setting up an authenticator app (allauth asks for the password again first), then
    # proving it once, opens the site.
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": FACTORY_PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=staff, type="totp").exists()
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    # allauth refuses a code twice in its window: confirm with one of the recovery codes.
    recovery = Authenticator.objects.get(user=staff, type="recovery_codes").wrap()
    client.post(reverse("mfa_reauthenticate"), {"code": recovery.get_unused_codes()[0]})
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_with_a_second_factor_are_not_logged_in_by_a_password_alone(client):
    staff = UserFactory(is_staff=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    response = log_in(client, staff.email)
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.post(reverse("mfa_authenticate"), {"code": "000000"}).status_code == 200
    assert "_auth_user_id" not in client.session
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert client.session["_auth_user_id"] == str(staff.pk)
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_staff_session_that_skipped_the_second_factor_is_asked_for_it(client):
    staff = UserFactory(is_staff=True)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)  # a session made by any path other than the login
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert client.get("/api/v1/me").status_code == 403


def test_students_and_organizers_are_not_made_to_use_a_second_factor(client):
    for user in (UserFactory(), OrganizerFactory()):
        client.force_login(user)
        assert client.get(reverse("events:mine")).status_code == 200
        assert client.get("/api/v1/me").status_code == 200
