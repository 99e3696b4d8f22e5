import pytest
from django.urls import reverse

from escore import services
from tests.factories import ScoreEntryFactory, UserFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def ranked_students():
    students = [UserFactory(display_name=f"Student {index}") for index in range(60)]
    for index, student in enumerate(students):
        ScoreEntryFactory(user=student, event=None, reason="adjustment", points=100 - index // 2)
    services.leaderboard_rebuild()
    return students


def test_leaderboard_page_lists_the_top_50_with_shared_ranks(
    client, ranked_students, django_assert_max_num_queries
):
    me = ranked_students[55]
    client.force_login(me)

    with django_assert_max_num_queries(4):
        response = client.get(reverse("escore:leaderboard"), {"term": "all"})

    assert response.status_code == 200
    board = response.context["board"]
    assert len(board.rows) == 50
    assert [row.rank for row in board.rows[:4]] == [1, 1, 3, 3]
    assert board.me.rank == 55
    assert b"Your rank: 55" in response.content
    assert b"may be delayed" not in response.content


def test_only_signed_in_school_accounts_see_the_leaderboard(client, ranked_students):
    # Anonymous visitors are asked to log in, page and API alike.
    response = client.get(reverse("escore:leaderboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get(f"{API}/leaderboard").status_code == 401
    # An account without a confirmed WashU address is told to confirm it.
    client.force_login(UserFactory(email_verified=False))
    response = client.get(reverse("escore:leaderboard"))
    assert response["Location"] == reverse("users:verify-email")
    response = client.get(f"{API}/leaderboard")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_unverified"
    assert b"Student" not in response.content


def test_my_escore_lists_every_entry_with_its_reason_and_event(
    client, attended, django_assert_max_num_queries
):
    student = UserFactory()
    registration = attended(student)
    services.score_attendance_sync(registration_id=registration.pk)
    client.force_login(student)

    # Session, user, the ledger; the disputes and the events that may be disputed.
    with django_assert_max_num_queries(5):
        response = client.get(reverse("escore:mine"))

    content = response.content.decode()
    assert response.context["summary"].total == 15
    assert "Attended an event" in content
    assert "First event in a new category" in content
    assert registration.event.title in content


def test_my_escore_requires_login(client):
    response = client.get(reverse("escore:mine"))
    assert response.status_code == 302


def test_api_leaderboard(client, ranked_students):
    client.force_login(ranked_students[0])
    body = client.get(f"{API}/leaderboard", {"term": "all", "limit": 3}).json()
    assert [row["rank"] for row in body["results"]] == [1, 1, 3]
    assert [row["score"] for row in body["results"]] == [100, 100, 99]
    assert sum(row["is_me"] for row in body["results"]) == 1
    # 58 of the 59 other listed students have less.
    assert body["me"] == {"score": 100, "rank": 1, "percentile": 98, "listed": True}
    assert body["listed_count"] == 60
    assert body["delayed"] is False


def test_api_leaderboard_current_term_names_the_term(client):
    client.force_login(UserFactory())
    body = client.get(f"{API}/leaderboard").json()
    assert body["scope"] == "current"
    assert body["term"]["key"]
    assert body["me"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"term": "forever"}, "term"),
    ],
)
def test_api_leaderboard_bad_input_is_422_in_the_error_shape(client, query, field):
    client.force_login(UserFactory())
    response = client.get(f"{API}/leaderboard", query)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]


def test_api_me_escore(client, attended):
    student = UserFactory()
    services.score_attendance_sync(registration_id=attended(student).pk)
    client.force_login(student)

    body = client.get(f"{API}/me/escore").json()

    assert body["total"] == 15
    assert {entry["reason"] for entry in body["entries"]} == {"attended", "new_category"}
    assert body["entries"][0]["event"]["url"].startswith("http")


def test_api_me_escore_is_401_in_the_error_shape_when_anonymous(client):
    response = client.get(f"{API}/me/escore")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_my_escore_draws_the_term_and_the_categories_with_their_numbers():
    """The charts come from the entries already read: running total per week, by category."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from escore.selectors import escore_pictures, escore_summary
    from tests.factories import EventCategoryFactory, EventPostFactory

    central = ZoneInfo("America/Chicago")
    now = dt.datetime(2026, 9, 20, 12, tzinfo=central)  # Fall 2026 began on August 1
    student = UserFactory()
    music, tech = EventCategoryFactory(name="Music"), EventCategoryFactory(name="Tech")
    for day, category, points in ((3, music, 15), (10, tech, 10), (11, music, 10)):
        event = EventPostFactory(
            category=category,
            starts_at=dt.datetime(2026, 8, day, 18, tzinfo=central),
            ends_at=dt.datetime(2026, 8, day, 20, tzinfo=central),
        )
        ScoreEntryFactory(user=student, event=event, points=points, reason="attended")
    last_term = EventPostFactory(
        category=tech,
        starts_at=dt.datetime(2026, 4, 1, 18, tzinfo=central),
        ends_at=dt.datetime(2026, 4, 1, 20, tzinfo=central),
    )
    ScoreEntryFactory(user=student, event=last_term, points=10, reason="attended")

    pictures = escore_pictures(escore_summary(user=student, now=now), now=now)

    # Weeks end Aug 7, 14, 21, ... and the last point is today.
    assert pictures.term_by_week[:3] == [
        (dt.date(2026, 8, 7), 15),
        (dt.date(2026, 8, 14), 35),
        (dt.date(2026, 8, 21), 35),
    ]
    assert pictures.term_by_week[-1] == (dt.date(2026, 9, 20), 35)
    assert pictures.by_category == [("Music", 25), ("Tech", 20)]


def test_my_escore_page_has_the_charts_and_their_text(client, attended):
    student = UserFactory()
    registration = attended(student)
    services.score_attendance_sync(registration_id=registration.pk)
    client.force_login(student)

    html = client.get(reverse("escore:mine")).content.decode()

    assert html.count('<svg class="chart"') == 2
    assert 'role="img"' in html
    category = registration.event.category.name
    assert f'<th scope="row">{category}</th><td>15</td>' in html
