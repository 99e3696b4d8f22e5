"""Every page a signed-in student (or organizer) sees: its SQL statements, pinned.

A page's statements are its cost floor (issue 25: the signed-in pages at a ratio of /health,
docs/BENCHMARKS.md). Each count is exact, so a new query on any of these pages fails here
and is a decision, not an accident. Every count includes the one statement Django's session
authentication makes for the user; the session itself comes from Redis (cached_db).
"""

import datetime as dt

import pytest
import redis
from django.urls import reverse
from django.utils import dateformat, timezone

from escore import services as escore_services
from events.models import EventPost, EventQuestion, EventRegistration
from orgs.models import Officer, OrganizationFollow
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    OfficerFactory,
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
    # user, event (with whether it asks questions or has co-hosts, and whether the reader's
    # address is confirmed), own registration
    ("detail", 3),
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


def test_home_shows_the_followed_section_in_two_more_statements(
    client, campus, django_assert_num_queries
):
    OrganizationFollow.objects.create(user=campus["student"], organization=campus["club"])
    client.force_login(campus["student"])
    _get(client, "/")
    # The followed organizations' upcoming event ids (their index), then those events' rows.
    with django_assert_num_queries(7):
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
    # user, event (with the e-mail check), own registration: no form, so no questions
    with django_assert_num_queries(3):
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


@pytest.fixture
def redis_commands(monkeypatch):
    """Every command sent to Redis, in order, with its first key: one a round trip (the real
    client runs them)."""
    sent: list[tuple[str, str]] = []
    execute_command = redis.Redis.execute_command

    def counted(self, *args, **options):
        sent.append((str(args[0]).upper(), str(args[1]) if len(args) > 1 else ""))
        return execute_command(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    return sent


def test_home_reads_its_fragments_and_picks_in_one_redis_round_trip(client, campus, redis_commands):
    client.force_login(campus["student"])
    _get(client, "/")  # stores the shared list and the student's picks
    redis_commands.clear()
    content = _get(client, "/").content.decode()
    # The session, then the two shared fragments and the "For you" picks together.
    assert [command for command, _key in redis_commands] == ["GET", "MGET"]
    assert content.count('class="card"') == 20


def test_home_renders_and_stores_what_the_one_read_missed(client, campus, redis_commands):
    client.force_login(campus["student"])
    cold = _get(client, "/").content.decode()
    # A fragment missed by the one read is rendered and stored, never read a second time.
    assert [command for command, _key in redis_commands].count("MGET") == 1
    fragment_reads = [
        key for command, key in redis_commands if command == "GET" and "template.cache" in key
    ]
    assert fragment_reads == []
    fragment_writes = [
        key for command, key in redis_commands if command == "SET" and "template.cache" in key
    ]
    assert len(fragment_writes) == 2  # the filters and the list, one SET each
    assert cold.count('class="card"') == 20


def test_my_events_cards_show_the_readers_own_registrations(client, campus):
    """Each card: the state, the ticket, a cancel form with the page's CSRF token."""
    student = campus["student"]
    full = EventPostFactory(title="Full <b>house</b>", capacity=1)
    EventRegistrationFactory(event=full)
    waiting = EventRegistrationFactory(
        event=full, user=student, status=EventRegistration.Status.WAITLISTED
    )
    client.force_login(student)
    content = _get(client, reverse("events:mine")).content.decode()
    upcoming = content[content.index("Coming up") : content.index("<h2>Past</h2>")]
    assert upcoming.count('class="card"') == 6  # five confirmed, one waitlisted
    assert upcoming.count("Registered") == 5
    assert "Waitlist: number 1" in upcoming
    assert "Leave the waitlist" in upcoming
    assert "Full &lt;b&gt;house&lt;/b&gt;" in upcoming  # the organizer's text, escaped
    assert reverse("events:cancel", kwargs={"pk": full.pk}) in upcoming
    assert upcoming.count('name="csrfmiddlewaretoken"') == 6
    assert upcoming.count(f'name="next" value="{reverse("events:mine")}"') == 6
    for registration in student.registrations.exclude(pk=waiting.pk).filter(
        event__ends_at__gt=timezone.now()
    ):
        ticket = reverse("events:ticket", kwargs={"pk": registration.pk})
        assert ticket in upcoming
    assert reverse("events:ticket", kwargs={"pk": waiting.pk}) not in upcoming
    # Another student's page has none of it.
    client.force_login(UserFactory())
    other = _get(client, reverse("events:mine")).content.decode()
    assert "Full &lt;b&gt;house" not in other
    assert 'class="card"' not in other


def test_detail_reads_the_questions_only_when_the_event_asks_some(
    client, campus, django_assert_num_queries
):
    event = campus["events"][12]
    EventQuestion.objects.create(event=event, label="Dietary needs", required=True)
    client.force_login(campus["student"])
    _get(client, event.get_absolute_url())
    # user, event (it asks questions), own registration, the questions
    with django_assert_num_queries(4):
        content = _get(client, event.get_absolute_url()).content.decode()
    assert "Dietary needs" in content


@pytest.mark.parametrize(
    ("reader", "manages"),
    [
        ("student", False),
        ("host_officer", True),
        ("cohost_officer", True),
        ("other_officer", False),
    ],
)
def test_detail_of_a_club_event_asks_who_manages_it_in_one_statement(
    client, campus, django_assert_num_queries, reader, manages
):
    club, cohost, elsewhere = campus["club"], OrganizationFactory(), OrganizationFactory()
    event = campus["club_events"][0]
    event.cohosts.add(cohost)
    users = {
        "student": campus["student"],
        "host_officer": OfficerFactory(organization=club, role=Officer.Role.EVENT_MANAGER).user,
        "cohost_officer": OfficerFactory(organization=cohost, role=Officer.Role.OFFICER).user,
        "other_officer": OfficerFactory(organization=elsewhere).user,
    }
    client.force_login(users[reader])
    _get(client, event.get_absolute_url())
    # user, event, own registration, "Manage this event" (host's role or a co-host's
    # officer: one statement), the co-hosts' names
    with django_assert_num_queries(5):
        content = _get(client, event.get_absolute_url()).content.decode()
    assert ("Manage this event" in content) is manages
    assert cohost.name in content


@pytest.mark.parametrize(
    "starts_at",
    [
        dt.datetime(2027, 1, 7, 0, 5, tzinfo=dt.UTC),  # 6:05 PM the day before, CST
        dt.datetime(2027, 7, 4, 17, 30, tzinfo=dt.UTC),  # 12:30 PM CDT
        dt.datetime(2027, 11, 20, 6, 0, tzinfo=dt.UTC),  # midnight CST
    ],
)
def test_dashboard_card_says_the_start_as_the_date_filter_did(client, starts_at):
    organizer = OrganizerFactory()
    EventPostFactory(organizer=organizer, starts_at=starts_at, title="Night <i>market</i>")
    client.force_login(organizer)
    page = _get(client, reverse("events:organize")).content.decode()
    local = timezone.localtime(starts_at)
    expected = (
        f'<time datetime="{dateformat.format(local, "c")}">'
        f"{dateformat.format(local, 'D, M j, Y · g:i A T')}</time>"
    )
    assert expected in page
    assert "Night &lt;i&gt;market&lt;/i&gt;" in page


def test_detail_of_a_club_event_without_cohosts_reads_none(
    client, campus, django_assert_num_queries
):
    event = campus["club_events"][1]
    client.force_login(campus["student"])
    _get(client, event.get_absolute_url())
    # user, event (no questions, no co-hosts), own registration, "Manage this event"
    with django_assert_num_queries(4):
        content = _get(client, event.get_absolute_url()).content.decode()
    assert campus["club"].name in content
    assert "Manage this event" not in content


def test_detail_asks_an_unconfirmed_reader_to_confirm_and_hides_school_events(client, campus):
    unconfirmed = UserFactory(email_verified=False)
    school_only = EventPostFactory(visibility=EventPost.Visibility.SCHOOL)
    client.force_login(unconfirmed)
    content = _get(client, campus["events"][12].get_absolute_url()).content.decode()
    assert "Confirm your school e-mail address to register" in content
    assert client.get(school_only.get_absolute_url()).status_code == 403
    client.force_login(campus["student"])
    assert (
        "Confirm your school" not in _get(client, school_only.get_absolute_url()).content.decode()
    )
