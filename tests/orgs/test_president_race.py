"""The president rule under a race: two presidents stepping down at the same moment, each
on its own connection, leave one president (orgs.services lock the organization's row)."""

import pytest

from orgs import services
from orgs.errors import LastPresident
from orgs.models import Officer
from tests.events.test_concurrency import race
from tests.factories import OfficerFactory, OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_presidents_stepping_down_at_once_leave_one():
    club = OrganizationFactory()
    first, second = (OfficerFactory(organization=club).user for _ in range(2))

    results = race(
        [
            lambda: services.officer_remove(organization_id=club.pk, by=first, user_id=first.pk),
            lambda: services.officer_remove(organization_id=club.pk, by=second, user_id=second.pk),
        ]
    )

    assert sum(isinstance(result, LastPresident) for result in results) == 1
    assert Officer.objects.filter(organization=club, role=Officer.Role.PRESIDENT).count() == 1
