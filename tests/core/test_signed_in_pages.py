"""Every page a signed-in student (or organizer) sees: its SQL statements, pinned.

A page's statements are its cost floor (issue 25: the signed-in pages at a ratio of /health,
docs/BENCHMARKS.md). Each count is exact, so a new query on any of these pages fails here
and is a decision, not an accident. Every count includes the one statement Django's session
authentication makes for the user; the session itself comes from Redis (cached_db).
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from escore import services as escore_services
from events.models import EventPost
from orgs.models import OrganizationFollow
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    OrganizationFactory,
    OrganizerFactory,
    ScoreEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def campus():
    """Two dozen upcoming events, a club with events, a student with registrations and points."""
    club = OrganizationFactory(name="Chess Club")
    events = EventPostFactory.create_batch(22)
    club_events = EventPostFactory.create_batch(3, organization=club)
    past = EventPostFactory(
        starts_at=timezone.now() - dt.timedelta(days=3),
        ends_at=timezone.now() - dt.timedelta(days=3, hours=-2),
    )
    student = UserFactory(display_name="Signed In")
    for event in [*events[:5], past]:
        EventRegistrationFactory(event=event, user=student)
    for index, event in enumerate(events[:3]):
        ScoreEntryFactory(user=student, event=event, points=10 + index)
    escore_services.leaderboard_rebuild()
    return {"student": student, "club": club, "events": events, "club_events": club_events}


def _get(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response


# (page, statements on a warm cache). The first request of a page may read what later
# requests find in Redis (the shared home list, category counts, leaderboard names).
SIGNED_IN_PAGES = [
    # user, e-mail verified (listable visibilities), followed organizations, the cached
    # "For you" picks' rows, the reader's statuses on the shared list's cards
    ("home", 5),
    # user, event, own registration, questions and e-mail check of the registration form
    ("detail", 5),
    # user, registrations with their events and waitlist positions
    ("my-events", 2),
    # user, ledger entries with their events, the student's disputes, the events they may
    # still dispute
    ("my-escore", 4),
    # user, e-mail verified (the leaderboard is for school accounts); standings from Redis
    ("leaderboard", 2),
    # user, e-mail verified, the latest organizer request
    ("account", 3),
]


def _path(page, campus):
    return {
        "home": "/",
        "detail": campus["events"][10].get_absolute_url(),
        "my-events": reverse("events:mine"),
        "my-escore": reverse("escore:mine"),
        "leaderboard": reverse("escore:leaderboard"),
        "account": reverse("users:account"),
    }[page]


@pytest.mark.parametrize(("page", "statements"), SIGNED_IN_PAGES)
def test_signed_in_page_statements_are_pinned(
    client, campus, django_assert_num_queries, page, statements
):
    client.force_login(campus["student"])
    path = _path(page, campus)
    _get(client, path)  # warms the shared caches, as every other student's visit does
    with django_assert_num_queries(statements):
        _get(client, path)


def test_home_shows_the_followed_section_in_one_more_statement(
    client, campus, django_assert_num_queries
):
    OrganizationFollow.objects.create(user=campus["student"], organization=campus["club"])
    client.force_login(campus["student"])
    _get(client, "/")
    with django_assert_num_queries(6):
        content = _get(client, "/").content.decode()
    assert "From organizations you follow" in content
    assert campus["club_events"][0].title in content


def test_home_list_is_rendered_once_and_shared_by_signed_in_students(
    client, campus, django_assert_num_queries
):
    client.force_login(UserFactory())
    # Cold: categories, their counts, the page's count and its rows, then the student's own
    # (with their "For you" picks worked out: 7 statements, then cached).
    with django_assert_num_queries(14):
        first = _get(client, "/").content.decode()
    client.force_login(campus["student"])
    # The list from Redis: user, e-mail check, follows, this student's picks worked out (7),
    # their statuses on the shared cards.
    with django_assert_num_queries(11):
        second = _get(client, "/").content.decode()
    assert campus["events"][0].title in first
    assert campus["events"][0].title in second
    # The student's own parts are not shared: the header's name-bound links stay per user.
    assert first.count('class="card"') == second.count('class="card"') == 20


def test_school_only_events_are_never_shared_with_readers_who_may_not_list_them(client, campus):
    EventPostFactory(
        title="Students only mixer",
        visibility=EventPost.Visibility.SCHOOL,
        starts_at=timezone.now() + dt.timedelta(hours=1),
    )
    client.force_login(campus["student"])
    assert "Students only mixer" in _get(client, "/").content.decode()
    client.force_login(UserFactory(email_verified=False))
    assert "Students only mixer" not in _get(client, "/").content.decode()


def test_registered_student_detail_needs_no_form_queries(client, campus, django_assert_num_queries):
    client.force_login(campus["student"])
    path = campus["events"][0].get_absolute_url()
    _get(client, path)
    # user, event, own registration, e-mail check: no registration form, so no questions
    with django_assert_num_queries(4):
        content = _get(client, path).content.decode()
    assert "Cancel my registration" in content


def test_leaderboard_rows_are_shared_but_mark_each_reader_in_them(client, campus):
    client.force_login(campus["student"])
    mine = _get(client, reverse("escore:leaderboard")).content.decode()
    assert 'class="me" aria-current="true"' in mine
    other = UserFactory(display_name="Not Ranked")
    client.force_login(other)
    theirs = _get(client, reverse("escore:leaderboard")).content.decode()
    assert campus["student"].leaderboard_name in theirs
    assert 'class="me"' not in theirs


def test_organizer_dashboard_statements_do_not_grow_with_events(client, django_assert_num_queries):
    organizer = OrganizerFactory()
    EventPostFactory.create_batch(12, organizer=organizer)
    client.force_login(organizer)
    _get(client, reverse("events:organize"))
    # user, the organizer's organizations, the tab counts, the page's events with their
    # checked-in counts, the registrations chart, the open disputes
    with django_assert_num_queries(6):
        _get(client, reverse("events:organize"))


def test_shared_home_list_shows_each_reader_their_own_status(client, campus):
    """The cached list is shared, the "you're registered" line on its cards is not."""
    client.force_login(UserFactory())
    stranger_first = _get(client, "/").content.decode()  # renders and stores the shared list
    client.force_login(campus["student"])
    own = _get(client, "/").content.decode()
    client.force_login(UserFactory())
    stranger_after = _get(client, "/").content.decode()
    assert own.count('class="status ok"') == 5
    assert 'class="status' not in stranger_first
    assert 'class="status' not in stranger_after
    assert "my-status" not in own + stranger_after  # no slot reaches the page
