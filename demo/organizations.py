"""Demo organizations: about 60 clubs with presidents, officers, members, followers and a
share of the demo events as theirs. Like the rest of the seed, created once: a rerun finds
them and adds nothing."""

import random

from django.db import connection
from django.utils import timezone
from django.utils.text import slugify

from events.models import EventCategory, EventPost
from orgs.models import Membership, Officer, Organization, OrganizationFollow
from users.models import User

from .data import DEMO_ORGANIZER_EMAIL, DEMO_STUDENT_EMAIL

TOPICS = (
    "Chess",
    "Debate",
    "Robotics",
    "Jazz",
    "A Cappella",
    "Hiking",
    "Film",
    "Photography",
    "Coding",
    "Chemistry",
    "Mock Trial",
    "Ultimate Frisbee",
    "Ballroom Dance",
    "Poetry",
    "Astronomy",
    "Entrepreneurship",
    "Volunteer",
    "Board Games",
    "Cooking",
    "Climbing",
)
KINDS = ("Club", "Society", "Collective")
# One event in EVENT_SHARE belongs to an organization; among those, one in MEMBERS_SHARE is
# for members only.
EVENT_SHARE = 3
MEMBERS_SHARE = 10


def organization_names() -> list[str]:
    return [f"WashU {topic} {kind}" for kind in KINDS for topic in TOPICS]


def organizations_create_missing(*, student_pool: list[int]) -> int:
    """Create the demo organizations when none exist yet; returns how many were created."""
    names = organization_names()
    if Organization.objects.filter(slug=slugify(names[0])).exists() or not student_pool:
        return 0
    categories = list(EventCategory.objects.order_by("slug"))
    now = timezone.now()
    organizations = Organization.objects.bulk_create(
        Organization(
            name=name,
            slug=slugify(name),
            description=f"{name}: weekly meetings, events on campus, everyone welcome.",
            category=categories[index % len(categories)] if categories else None,
            contact_email=f"{slugify(name)}@wustl.edu",
            status=Organization.Status.APPROVED,
            approved_at=now,
            join_policy=(
                Organization.JoinPolicy.APPROVAL if index % 4 == 0 else Organization.JoinPolicy.OPEN
            ),
        )
        for index, name in enumerate(names)
    )
    organizer = User.objects.filter(email=DEMO_ORGANIZER_EMAIL).first()
    student = User.objects.filter(email=DEMO_STUDENT_EMAIL).first()
    officers, members, follows = [], [], []
    for index, organization in enumerate(organizations):
        rng = random.Random(f"seed-demo-org-{index}")  # noqa: S311 - demo data, not security
        people = rng.sample(student_pool, min(len(student_pool), 20))
        president = organizer.pk if organizer and index == 0 else people[0]
        roles = [
            (president, Officer.Role.PRESIDENT),
            (people[1 % len(people)], Officer.Role.OFFICER),
            (people[2 % len(people)], Officer.Role.EVENT_MANAGER),
        ]
        officers += [
            Officer(organization=organization, user_id=user_id, role=role)
            for user_id, role in dict(roles).items()
        ]
        members += [
            Membership(
                organization=organization,
                user_id=user_id,
                status=Membership.Status.APPROVED,
                approved_at=now,
            )
            for user_id in people[3:12]
        ]
        follows += [
            OrganizationFollow(organization=organization, user_id=user_id) for user_id in people
        ]
    if student is not None:
        # The demo student follows a few clubs and belongs to one, so the home page shows them.
        follows += [OrganizationFollow(organization=org, user=student) for org in organizations[:4]]
        members.append(
            Membership(
                organization=organizations[0],
                user=student,
                status=Membership.Status.APPROVED,
                approved_at=now,
            )
        )
    Officer.objects.bulk_create(officers, ignore_conflicts=True)
    Membership.objects.bulk_create(members, ignore_conflicts=True)
    OrganizationFollow.objects.bulk_create(follows, ignore_conflicts=True)
    _events_assign(organization_ids=[org.pk for org in organizations])
    return len(organizations)


def _events_assign(*, organization_ids: list[int]) -> None:
    """Give every EVENT_SHARE-th demo event to an organization, in one statement."""
    table = EventPost._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET organization_id = (%s::bigint[])[(id / %s) %% %s + 1],"  # noqa: S608 - table name is ours # nosec B608
            " visibility = CASE WHEN id %% %s = 0 THEN 'members' ELSE visibility END"
            " WHERE id %% %s = 0 AND organization_id IS NULL",
            [
                organization_ids,
                EVENT_SHARE,
                len(organization_ids),
                EVENT_SHARE * MEMBERS_SHARE,
                EVENT_SHARE,
            ],
        )
