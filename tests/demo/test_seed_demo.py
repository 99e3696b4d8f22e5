import datetime as dt
import io

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, Max, Q
from django.utils import timezone

from demo import data as demo_data
from events import services
from events.models import EventCategory, EventPost, EventRegistration
from orgs.models import Officer, Organization
from users.models import User

pytestmark = pytest.mark.django_db

SMALL = {"events": 60, "students": 30}
# Bulk students are first.last@wustl.edu; demo and group accounts have no dot before the @.
BULK_STUDENTS = Q(email__regex=r"^[^@]+\.[^@]+@")


def seed(**options: object) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def table_snapshot() -> dict[str, tuple[int, int | None]]:
    """Row count and highest id of every table the command writes to."""
    return {
        model.__name__: (model.objects.count(), model.objects.aggregate(top=Max("pk"))["top"])
        for model in (User, EventCategory, EventPost, EventRegistration, Organization, Officer)
    }


def test_creates_the_requested_events_students_and_demo_accounts():
    output = seed(**SMALL)

    assert EventPost.objects.count() == 60
    assert User.objects.filter(BULK_STUDENTS).count() == 30
    assert EventCategory.objects.count() == len(demo_data.CATEGORIES)
    assert EventRegistration.objects.exists()
    assert output.startswith("Created 60 events, 30 students, ")
    assert f"{EventRegistration.objects.count()} registrations" in output

    student = User.objects.get(email="student@wustl.edu")
    organizer = User.objects.get(email="organizer@wustl.edu")
    admin = User.objects.get(email="admin@wustl.edu")
    assert student.check_password("washu-demo")
    assert not student.is_organizer
    assert organizer.is_organizer
    assert organizer.check_password("washu-demo")
    assert admin.is_staff
    assert admin.is_superuser
    # Staff need a second factor; locally its code is allauth's bypass code.
    assert Authenticator.objects.filter(user=admin, type="totp").exists()
    assert admin.check_password("washu-demo")
    assert not any(user.has_usable_password() for user in User.objects.filter(BULK_STUDENTS))
    # About 60 clubs, each with a president, and a share of the events as theirs.
    assert Organization.objects.count() == 60
    assert not Organization.objects.exclude(officers__role="president").exists()
    assert EventPost.objects.filter(organization__isnull=False).count() == 20
    assert organizer.officer_roles.get().role == "president"


def test_counters_equal_the_registration_rows():
    seed(**SMALL)

    events = EventPost.objects.annotate(
        confirmed=Count("registrations", filter=Q(registrations__status="confirmed")),
        waitlisted=Count("registrations", filter=Q(registrations__status="waitlisted")),
    )
    for event in events:
        assert (event.seats_taken, event.waitlist_count) == (event.confirmed, event.waitlisted)
    assert sum(event.seats_taken for event in events) > 0


def test_mix_of_statuses_capacities_and_checkins():
    seed(events=400, students=60)

    events = EventPost.objects.all()
    assert events.filter(status="published").count() > 300
    assert events.filter(status="cancelled").exclude(cancellation_reason="").exists()
    assert events.filter(status="draft").exists()
    assert events.filter(capacity__isnull=True).exists()
    assert events.filter(waitlist_count__gt=0).exists()
    assert EventRegistration.objects.filter(checked_in_at__isnull=False).exists()
    assert events.exclude(geocode_status="found").count() == 0
    assert User.objects.filter(leaderboard_visibility="pseudonym").exclude(pseudonym="").exists()


def test_events_sit_on_the_danforth_campus_in_the_past_and_coming_weeks():
    seed(**SMALL)

    anchor = User.objects.get(email="organizer@wustl.edu").date_joined
    for event in EventPost.objects.all():
        assert 38.644 < event.latitude < 38.651
        assert -90.316 < event.longitude < -90.300
        assert -29 <= (event.starts_at - anchor).days <= 56
        assert "lorem" not in event.description.lower()
        assert event.description.count(". ") >= 1


def test_second_run_creates_nothing():
    seed(**SMALL)
    before = table_snapshot()

    output = seed(**SMALL)

    assert table_snapshot() == before
    assert "nothing to do" in output


def test_more_events_only_adds_the_difference():
    seed(**SMALL)
    first_run_keys = set(EventPost.objects.values_list("organizer_id", "title", "starts_at"))

    output = seed(events=90, students=30)

    all_keys = set(EventPost.objects.values_list("organizer_id", "title", "starts_at"))
    assert len(all_keys) == EventPost.objects.count() == 90
    assert first_run_keys < all_keys
    assert output.startswith("Created 30 events, 0 students, ")


def test_more_students_only_adds_the_difference():
    seed(**SMALL)
    first_emails = set(User.objects.values_list("email", flat=True))

    seed(events=60, students=45)

    assert first_emails < set(User.objects.values_list("email", flat=True))
    assert User.objects.filter(BULK_STUDENTS).count() == 45
    assert EventPost.objects.count() == 60


def test_refuses_to_run_in_production(settings):
    settings.DJANGO_ENV = "production"

    with pytest.raises(CommandError, match="--force"):
        seed(**SMALL)

    assert not EventPost.objects.exists()
    assert not User.objects.exists()


def test_force_runs_in_production(settings):
    settings.DJANGO_ENV = "production"

    seed(events=5, students=5, force=True)

    assert EventPost.objects.count() == 5


def test_rerun_on_a_later_day_creates_nothing(monkeypatch):
    seed(**SMALL)
    before = table_snapshot()
    three_days_later = timezone.now() + dt.timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: three_days_later)

    output = seed(**SMALL)

    assert table_snapshot() == before
    assert "nothing to do" in output


def test_cancelling_a_seat_on_a_seeded_full_event_promotes_the_first_waitlisted():
    seed(events=200, students=60)
    event = (
        EventPost.objects.filter(
            status="published", waitlist_count__gt=0, starts_at__gt=timezone.now()
        )
        .order_by("pk")
        .first()
    )
    assert event is not None, "the seed should include an upcoming full event with a waitlist"
    assert event.seats_taken == event.capacity
    leaving = event.registrations.filter(status="confirmed").first()
    first_waiting = (
        event.registrations.filter(status="waitlisted").order_by("registered_at").first()
    )

    services.registration_cancel(event_id=event.pk, user=leaving.user)

    first_waiting.refresh_from_db()
    event.refresh_from_db()
    assert first_waiting.status == "confirmed"
    assert event.seats_taken == event.capacity
    assert event.waitlist_count == event.registrations.filter(status="waitlisted").count()


def test_demo_accounts_have_a_verified_address_so_they_can_sign_in():
    seed(events=5, students=5)

    verified = set(
        EmailAddress.objects.filter(verified=True, primary=True).values_list("email", flat=True)
    )
    assert verified == {"student@wustl.edu", "organizer@wustl.edu", "admin@wustl.edu"}


def test_seeding_fills_the_did_you_mean_vocabulary():
    from django.db import connection

    call_command("seed_demo", events=40, students=10, stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events_search_word")
        assert cursor.fetchone()[0] > 0


def test_the_planner_knows_what_was_loaded():
    """seed_demo analyses what it wrote: pg_class.reltuples (set by ANALYZE, -1 before any)
    counts the events of this still uncommitted transaction, which autovacuum cannot see."""
    seed(**SMALL)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'events_eventpost'")
        assert cursor.fetchone()[0] == EventPost.objects.count() == 60


def test_analyze_database_command_analyses_every_table():
    EventCategory.objects.create(name="Chess", slug="chess")
    out = io.StringIO()
    call_command("analyze_database", stdout=out)
    assert out.getvalue().startswith("Analysed every table in ")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'events_eventcategory'")
        assert cursor.fetchone()[0] == EventCategory.objects.count()
