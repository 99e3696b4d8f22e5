"""Accounts against abuse (issue 18): ASVS level 1 password rules, one account per mailbox,
login limits without lockouts or password oracles, sign-up pre-hijacking, notices of
changes, and multi-factor authentication for staff."""

import datetime as dt

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core import mail
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
