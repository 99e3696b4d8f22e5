import pytest

from tests.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


def test_users_log_in_with_their_email(client):
    User.objects.create_user(email="bear@wustl.edu", password="correct-horse-battery")
    assert client.login(username="bear@wustl.edu", password="correct-horse-battery")


def test_email_login_ignores_case(client):
    User.objects.create_user(email="bear@wustl.edu", password="correct-horse-battery")
    assert client.login(username="BEAR@wustl.edu", password="correct-horse-battery")


def test_superuser_is_staff():
    admin = User.objects.create_superuser(email="admin@wustl.edu", password="x" * 12)
    assert admin.is_staff
    assert admin.is_superuser


def test_user_needs_an_email():
    with pytest.raises(ValueError, match="e-mail"):
        User.objects.create_user(email="", password="x")


@pytest.mark.parametrize(
    ("visibility", "pseudonym", "expected"),
    [("public", "", "Ada Lovelace"), ("pseudonym", "Night Owl", "Night Owl"), ("hidden", "", None)],
)
def test_leaderboard_name_follows_the_students_choice(visibility, pseudonym, expected):
    user = UserFactory(
        display_name="Ada Lovelace", leaderboard_visibility=visibility, pseudonym=pseudonym
    )
    assert user.leaderboard_name == expected


def test_name_falls_back_to_the_email_local_part():
    assert UserFactory.build(email="a.bear@wustl.edu", display_name="").get_full_name() == "a.bear"
