import pytest
from django.urls import reverse

from escore.leaderboard import Leaderboard
from escore.models import ScoreEntry
from tests.conftest import sign_in
from tests.factories import ScoreEntryFactory, UserFactory
from users.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


@pytest.fixture
def staff_client(client):
    sign_in(client, User.objects.create_superuser(email="staff@wustl.edu", password="x" * 12))
    return client


def test_staff_adjustment_is_added_and_reaches_the_leaderboard(staff_client, side_effects):
    student = UserFactory()
    with side_effects(execute=True):
        response = staff_client.post(
            reverse("admin:escore_scoreentry_add"),
            {
                "user": student.pk,
                "points": 7,
                "reason": "adjustment",
                "generation": 1,
                "note": "Volunteered at orientation",
            },
        )

    assert response.status_code == 302, response.content
    assert ScoreEntry.objects.get(user=student).points == 7
    assert Leaderboard.for_scope("all").standing(student.pk).score == 7


def test_the_ledger_cannot_be_edited_or_deleted_in_the_admin(staff_client):
    entry = ScoreEntryFactory(points=10)

    staff_client.post(reverse("admin:escore_scoreentry_change", args=[entry.pk]), {"points": 99})
    staff_client.post(reverse("admin:escore_scoreentry_delete", args=[entry.pk]), {"post": "yes"})

    entry.refresh_from_db()
    assert entry.points == 10
