import datetime as dt

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone
from factory.django import DjangoModelFactory

from escore.models import ScoreEntry
from events.models import EventCategory, EventPost, EventRegistration
from orgs.models import Membership, Officer, Organization
from users.models import User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"student{n}@wustl.edu")
    display_name = factory.Faker("name")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def email_verified(obj, create, extracted, **kwargs):
        """A confirmed allauth address, as after sign-up; `email_verified=False` for one not yet."""
        if create:
            EmailAddress.objects.create(
                user=obj, email=obj.email, primary=True, verified=extracted is not False
            )


class OrganizerFactory(UserFactory):
    email = factory.Sequence(lambda n: f"organizer{n}@wustl.edu")
    is_organizer = True


class EventCategoryFactory(DjangoModelFactory):
    class Meta:
        model = EventCategory
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class EventPostFactory(DjangoModelFactory):
    class Meta:
        model = EventPost

    organizer = factory.SubFactory(OrganizerFactory)
    category = factory.SubFactory(EventCategoryFactory)
    title = factory.Sequence(lambda n: f"Event {n}")
    description = "An event on the Danforth campus."
    location_name = "Danforth University Center"
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=2))
    capacity = 50
    status = EventPost.Status.PUBLISHED


class EventRegistrationFactory(DjangoModelFactory):
    class Meta:
        model = EventRegistration

    event = factory.SubFactory(EventPostFactory)
    user = factory.SubFactory(UserFactory)
    status = EventRegistration.Status.CONFIRMED


class ScoreEntryFactory(DjangoModelFactory):
    class Meta:
        model = ScoreEntry

    user = factory.SubFactory(UserFactory)
    event = factory.SubFactory(EventPostFactory)
    points = 10
    reason = ScoreEntry.Reason.ATTENDED


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Club {n}")
    slug = factory.Sequence(lambda n: f"club-{n}")
    description = "A student organization."
    status = Organization.Status.APPROVED
    approved_at = factory.LazyFunction(timezone.now)


class OfficerFactory(DjangoModelFactory):
    class Meta:
        model = Officer

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Officer.Role.PRESIDENT


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    status = Membership.Status.APPROVED
    approved_at = factory.LazyFunction(timezone.now)
