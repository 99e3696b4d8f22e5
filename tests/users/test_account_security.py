"""Accounts against abuse (issue 18): ASVS level 1 password rules, one account per mailbox,
login limits without lockouts or password oracles, sign-up pre-hijacking, notices of
changes, and multi-factor authentication for staff."""

import datetime as dt
import importlib
import re

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
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
    # Alice is asked by e-mail; even if she confirms, the mailbox stays hers alone.
    (request,) = mail.outbox
    assert request.to == ["alice@wustl.edu"]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", request.body).group(1)
    Client().post(link)
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
