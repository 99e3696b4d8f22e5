"""The demo seed: a believable WashU for local use, created once and never changed.

Every row is derived from a fixed seed and its index, and dates are anchored to the moment the
demo organizer account was first created, so a rerun (on any day) finds every row it would
create already there and inserts nothing; a larger `--events` or `--students` adds only the
difference.
"""

import datetime as dt
import functools
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.hashers import make_password
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from core import clock
from events.models import EventCategory, EventPost, EventRegistration
from events.selectors import category_choices_forget
from users.models import User
from users.pseudonyms import pseudonym_generate

from . import data as demo_data
from .data import (
    CANCELLATION_REASONS,
    DEMO_ACCOUNTS,
    DEMO_ORGANIZER_EMAIL,
    DEMO_PASSWORD,
    DEMO_STUDENT_EMAIL,
    REGULAR_CAPACITIES,
)
from .organizations import organizations_create_missing
from .scores import demo_scores_award

BATCH_SIZE = 1000
STUDENT_NAMES_SEED = "seed-demo-students"
PAST_DAYS = 28
FUTURE_DAYS = 56
# Students have interests, as real ones do: each has a few favourite categories, and this
# share of an event's registrants are drawn from the students who favour its category
# (the rest from everyone). It is what "For you" learns from (bench/recommendation_eval.py).
FAVOURITE_CATEGORIES = 3
FAN_SHARE = 0.6


@dataclass(frozen=True)
class EventPlan:
    """An event before it has an id, with what its registrations need to know."""

    index: int
    event: EventPost
    waitlist_demand: int  # > 0 only for small events meant to be full with a waitlist


@dataclass
class SeedCounts:
    categories: int = 0
    demo_accounts: int = 0
    organizers: int = 0
    students: int = 0
    events: int = 0
    registrations: int = 0
    score_entries: int = 0
    organizations: int = 0

    @property
    def anything_created(self) -> bool:
        return any(vars(self).values())


def demo_seed(*, event_count: int, student_count: int) -> SeedCounts:
    counts = SeedCounts()
    counts.categories = _categories_create_missing()
    counts.demo_accounts = _demo_accounts_create_missing()
    anchor = User.objects.get(email__iexact=DEMO_ORGANIZER_EMAIL).date_joined
    counts.organizers = _organizers_create_missing()
    counts.students = _students_create_missing(count=student_count)
    counts.events, counts.registrations = _events_create_missing(
        count=event_count, student_count=student_count, anchor=anchor
    )
    # The seeded check-ins earn E-score entries by the same rules as live ones.
    counts.score_entries = demo_scores_award()
    counts.organizations = organizations_create_missing(
        student_pool=_student_pool(student_count=student_count)
    )
    return counts


def _categories_create_missing() -> int:
    existing = set(EventCategory.objects.values_list("slug", flat=True))
    created = EventCategory.objects.bulk_create(
        EventCategory(slug=content.slug, name=content.name, description=content.description)
        for content in demo_data.CATEGORIES
        if content.slug not in existing
    )
    if created:  # bulk_create sends no post_save: forget the cached list here
        category_choices_forget()
    return len(created)


def _existing_emails(*, emails: Sequence[str]) -> set[str]:
    lowered = [email.lower() for email in emails]
    return set(
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=lowered)
        .values_list("email_lower", flat=True)
    )


def _demo_accounts_create_missing() -> int:
    existing = _existing_emails(emails=[account.email for account in DEMO_ACCOUNTS])
    created = 0
    for account in DEMO_ACCOUNTS:
        if account.email in existing:
            continue
        # Only three accounts, so hashing their password one by one costs nothing noticeable.
        user = User.objects.create_user(
            email=account.email,
            password=DEMO_PASSWORD,
            display_name=account.display_name,
            is_organizer=account.is_organizer,
            is_staff=account.is_staff,
            is_superuser=account.is_superuser,
            leaderboard_visibility=account.leaderboard_visibility,
        )
        # Sign-in requires a verified address; the demo accounts have no inbox to verify from.
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        if user.is_staff:
            # Staff need a second factor (users.mfa). Nobody holds this secret: locally,
            # MFA_TOTP_INSECURE_BYPASS_CODE (000000, DEBUG only) stands in for the app.
            TOTP.activate(user, generate_totp_secret())
        created += 1
    return created


def _organizer_email(*, display_name: str) -> str:
    return f"{slugify(display_name)}@wustl.edu"


def _organizer_names() -> list[str]:
    return list(
        dict.fromkeys(name for content in demo_data.CATEGORIES for name in content.organizers)
    )


def _organizers_create_missing() -> int:
    names = _organizer_names()
    existing = _existing_emails(emails=[_organizer_email(display_name=name) for name in names])
    created = User.objects.bulk_create(
        (
            User(
                email=_organizer_email(display_name=name),
                display_name=name,
                is_organizer=True,
                # Groups and departments do not compete with students for the leaderboard.
                leaderboard_visibility=User.LeaderboardVisibility.HIDDEN,
                password=make_password(None),
            )
            for name in names
            if _organizer_email(display_name=name) not in existing
        ),
        batch_size=BATCH_SIZE,
    )
    return len(created)


def _students_create_missing(*, count: int) -> int:
    identities = demo_data.student_identities_generate(count=count, seed=STUDENT_NAMES_SEED)
    existing = _existing_emails(emails=[identity.email for identity in identities])
    new_students = []
    for index, identity in enumerate(identities):
        if identity.email in existing:
            continue
        rng = random.Random(f"seed-demo-student-{index}")  # noqa: S311 - demo data, not security
        visibility_roll = rng.random()
        # Pseudonyms are the default; some students show their name, a few hide.
        pseudonym = pseudonym_generate(rng)
        if visibility_roll < 0.6:
            visibility = User.LeaderboardVisibility.PSEUDONYM
        elif visibility_roll < 0.7:
            visibility = User.LeaderboardVisibility.HIDDEN
        else:
            visibility = User.LeaderboardVisibility.PUBLIC
        new_students.append(
            User(
                email=identity.email,
                display_name=identity.display_name,
                leaderboard_visibility=visibility,
                pseudonym=pseudonym,
                # Unusable: hashing a real password for thousands of students would take minutes.
                password=make_password(None),
            )
        )
    User.objects.bulk_create(new_students, batch_size=BATCH_SIZE)
    return len(new_students)


def _student_pool(*, student_count: int) -> list[int]:
    """Ids of the bulk students, in generation order, so a sample by index is reproducible."""
    identities = demo_data.student_identities_generate(count=student_count, seed=STUDENT_NAMES_SEED)
    ids_by_email = dict(
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=[identity.email for identity in identities])
        .values_list("email_lower", "id")
    )
    return [ids_by_email[identity.email] for identity in identities]


def _events_create_missing(
    *, count: int, student_count: int, anchor: dt.datetime
) -> tuple[int, int]:
    categories = {category.slug: category for category in EventCategory.objects.all()}
    organizer_emails = [DEMO_ORGANIZER_EMAIL] + [
        _organizer_email(display_name=name) for name in _organizer_names()
    ]
    organizer_ids = dict(User.objects.filter(email__in=organizer_emails).values_list("email", "id"))
    existing_keys = set(
        EventPost.objects.filter(organizer_id__in=organizer_ids.values()).values_list(
            "organizer_id", "title", "starts_at"
        )
    )
    student_ids = _student_pool(student_count=student_count)
    demo_student_id = User.objects.values_list("id", flat=True).get(email=DEMO_STUDENT_EMAIL)

    new_event_ids: list[int] = []
    plans = _event_plans(
        count=count, anchor=anchor, categories=categories, organizer_ids=organizer_ids
    )
    with tqdm(total=count, desc="Demo events", unit="event", file=sys.stderr, disable=None) as bar:
        for batch in _batched(plans, size=BATCH_SIZE):
            new_plans = [
                plan
                for plan in batch
                if (plan.event.organizer_id, plan.event.title, plan.event.starts_at)
                not in existing_keys
            ]
            EventPost.objects.bulk_create([plan.event for plan in new_plans])
            registrations = [
                registration
                for plan in new_plans
                for registration in _registrations_plan(
                    plan=plan,
                    anchor=anchor,
                    student_ids=student_ids,
                    demo_student_id=demo_student_id,
                )
            ]
            EventRegistration.objects.bulk_create(
                registrations, batch_size=BATCH_SIZE * 5, ignore_conflicts=True
            )
            new_event_ids.extend(plan.event.pk for plan in new_plans)
            bar.update(len(batch))
    _event_counters_recount(event_ids=new_event_ids)
    # Counted from the table: with ignore_conflicts, bulk_create returns every object it was
    # given, inserted or not.
    registrations_created = EventRegistration.objects.filter(event_id__in=new_event_ids).count()
    return len(new_event_ids), registrations_created


def _event_plans(
    *,
    count: int,
    anchor: dt.datetime,
    categories: dict[str, EventCategory],
    organizer_ids: dict[str, int],
) -> Iterator[EventPlan]:
    # Two indexes may draw the same organizer, title and start: the later one moves by a
    # quarter hour so the natural key stays unique and `--events N` really yields N events.
    seen_keys: set[tuple[int, str, dt.datetime]] = set()
    for index in range(count):
        plan = _event_plan(
            index=index, anchor=anchor, categories=categories, organizer_ids=organizer_ids
        )
        event = plan.event
        while (key := (event.organizer_id, event.title, event.starts_at)) in seen_keys:
            event.starts_at += dt.timedelta(minutes=15)
            event.ends_at += dt.timedelta(minutes=15)
        seen_keys.add(key)
        yield plan


def _event_plan(
    *,
    index: int,
    anchor: dt.datetime,
    categories: dict[str, EventCategory],
    organizer_ids: dict[str, int],
) -> EventPlan:
    rng = random.Random(f"seed-demo-event-{index}")  # noqa: S311 - demo data, not security
    content = rng.choice(demo_data.CATEGORIES)
    # The demo organizer owns a share of every kind of event, so its dashboard has content.
    if rng.random() < 0.03:
        organizer_id = organizer_ids[DEMO_ORGANIZER_EMAIL]
    else:
        organizer_name = rng.choice(content.organizers)
        organizer_id = organizer_ids[_organizer_email(display_name=organizer_name)]
    text = demo_data.event_text_generate(category=content, rng=rng)

    anchor_day = clock.local_date(anchor)
    day = anchor_day + dt.timedelta(days=rng.randint(-PAST_DAYS, FUTURE_DAYS - 1))
    start_time = dt.time(text.start_hour, rng.choice((0, 0, 0, 15, 30, 30, 45)))
    starts_at = timezone.make_aware(dt.datetime.combine(day, start_time), clock.campus_zone())
    ends_at = starts_at + dt.timedelta(minutes=text.duration_minutes)

    waitlist_demand = 0
    capacity_roll = rng.random()
    if text.unlimited_capacity or capacity_roll < 0.10:
        capacity = None
    elif capacity_roll < 0.18:
        capacity = rng.randint(8, 24)
        waitlist_demand = rng.randint(1, 12)
    else:
        capacity = rng.choice(REGULAR_CAPACITIES)

    status, cancellation_reason = EventPost.Status.PUBLISHED, ""
    status_roll = rng.random()
    if status_roll < 0.03:
        status, cancellation_reason = (
            EventPost.Status.CANCELLED,
            rng.choice(CANCELLATION_REASONS),
        )
    elif status_roll < 0.06 and starts_at > anchor:
        status = EventPost.Status.DRAFT

    event = EventPost(
        organizer_id=organizer_id,
        category=categories[content.slug],
        title=text.title,
        description=text.description,
        location_name=text.venue.name,
        address=text.venue.address,
        latitude=text.venue.latitude,
        longitude=text.venue.longitude,
        geocode_status=EventPost.GeocodeStatus.FOUND,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        status=status,
        cancellation_reason=cancellation_reason,
    )
    return EventPlan(index=index, event=event, waitlist_demand=waitlist_demand)


def _registrations_plan(
    *, plan: EventPlan, anchor: dt.datetime, student_ids: list[int], demo_student_id: int
) -> list[EventRegistration]:
    event = plan.event
    if event.status == EventPost.Status.DRAFT or not student_ids:
        return []
    rng = random.Random(f"seed-demo-registrations-{plan.index}")  # noqa: S311 - demo data
    if event.capacity is None:
        demand = int(rng.lognormvariate(1.9, 0.7))
    elif plan.waitlist_demand:
        demand = event.capacity + plan.waitlist_demand
    else:
        demand = round(event.capacity * rng.betavariate(1, 12))
    user_ids = _registrants_draw(
        rng=rng,
        student_ids=student_ids,
        fans=_fans(student_count=len(student_ids)).get(event.category.slug, []),
        count=min(demand, len(student_ids)),
    )
    if rng.random() < 0.006:
        user_ids.append(demo_student_id)

    # Registration opens three weeks ahead and closes at the start, and nobody registered
    # after the moment the demo was anchored.
    closes_at = min(event.starts_at, anchor)
    opens_at = min(event.starts_at - dt.timedelta(days=21), closes_at - dt.timedelta(days=3))
    window_seconds = (closes_at - opens_at).total_seconds()
    registered_times = sorted(
        opens_at + dt.timedelta(seconds=rng.uniform(0, window_seconds)) for _ in user_ids
    )

    registrations = []
    confirmed_count = 0
    event_took_place = event.status == EventPost.Status.PUBLISHED and event.ends_at <= anchor
    for user_id, registered_at in zip(user_ids, registered_times, strict=True):
        registration = EventRegistration(
            event_id=event.pk, user_id=user_id, registered_at=registered_at
        )
        if event.status == EventPost.Status.CANCELLED or rng.random() < 0.05:
            registration.status = EventRegistration.Status.CANCELLED
            registration.cancelled_at = registered_at + (closes_at - registered_at) * rng.random()
        elif event.capacity is None or confirmed_count < event.capacity:
            # First come, first served: the earliest registrations take the seats.
            registration.status = EventRegistration.Status.CONFIRMED
            confirmed_count += 1
            if event_took_place and rng.random() < 0.75:
                registration.checked_in_at = event.starts_at + dt.timedelta(
                    minutes=rng.randint(-10, 40)
                )
        else:
            registration.status = EventRegistration.Status.WAITLISTED
        registrations.append(registration)
    return registrations


@functools.cache
def _fans(*, student_count: int) -> dict[str, list[int]]:
    """Positions in the student pool of the students who favour each category (by slug)."""
    slugs = [content.slug for content in demo_data.CATEGORIES]
    fans: dict[str, list[int]] = {slug: [] for slug in slugs}
    for index in range(student_count):
        rng = random.Random(f"seed-demo-interests-{index}")  # noqa: S311 - demo data
        for slug in rng.sample(slugs, k=min(FAVOURITE_CATEGORIES, len(slugs))):
            fans[slug].append(index)
    return fans


def _registrants_draw(
    *, rng: random.Random, student_ids: list[int], fans: list[int], count: int
) -> list[int]:
    """`count` distinct students: a FAN_SHARE of draws among the category's fans."""
    chosen: dict[int, None] = {}
    while len(chosen) < count:
        if fans and rng.random() < FAN_SHARE:
            student_id = student_ids[rng.choice(fans)]
        else:
            student_id = rng.choice(student_ids)
        chosen.setdefault(student_id, None)
    return list(chosen)


def _event_counters_recount(*, event_ids: list[int]) -> None:
    """Set the seat and waitlist counters from the registration rows that were really stored."""
    if not event_ids:
        return

    def count_with(status: str) -> Coalesce:
        per_event = (
            EventRegistration.objects.filter(event=OuterRef("pk"), status=status)
            .order_by()
            .values("event")
            .annotate(total=Count("pk"))
            .values("total")
        )
        return Coalesce(Subquery(per_event, output_field=IntegerField()), Value(0))

    EventPost.objects.filter(pk__in=event_ids).update(
        seats_taken=count_with(EventRegistration.Status.CONFIRMED),
        waitlist_count=count_with(EventRegistration.Status.WAITLISTED),
    )


def _batched(plans: Iterator[EventPlan], *, size: int) -> Iterator[list[EventPlan]]:
    batch: list[EventPlan] = []
    for plan in plans:
        batch.append(plan)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
