"""Officers: invitations by e-mail, roles, hand-over, and the president rule."""

import io

import pytest
from django.core import mail

from events.errors import ActionForbidden
from orgs import services
from orgs.errors import LastPresident, OrgInvalid
from orgs.models import Officer, OfficerInvitation, OrgActivity, Organization
from tests.factories import OfficerFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
Role = Officer.Role


@pytest.fixture
def club():
    organization = OrganizationFactory(name="Chess Club", slug="chess")
    president = OfficerFactory(organization=organization).user
    return organization, president


def test_the_last_president_can_be_neither_removed_nor_demoted(club):
    organization, president = club
    with pytest.raises(LastPresident):
        services.officer_remove(organization_id=organization.pk, by=president, user_id=president.pk)
    with pytest.raises(LastPresident):
        services.officer_role_change(
            organization_id=organization.pk, by=president, user_id=president.pk, role=Role.OFFICER
        )
    assert Officer.objects.get(user=president).role == Role.PRESIDENT


def test_a_second_president_lets_the_first_step_down(club):
    organization, president = club
    other = OfficerFactory(organization=organization, role=Role.OFFICER).user
    services.officer_role_change(
        organization_id=organization.pk, by=president, user_id=other.pk, role=Role.PRESIDENT
    )
    services.officer_remove(organization_id=organization.pk, by=president, user_id=president.pk)
    assert list(Officer.objects.values_list("user", "role")) == [(other.pk, Role.PRESIDENT)]


def test_president_hands_over_without_staff_and_stays_as_officer(club):
    organization, president = club
    successor = UserFactory(email="next@wustl.edu")
    services.president_hand_over(
        organization_id=organization.pk, by=president, to_email="Next@wustl.edu"
    )
    roles = dict(Officer.objects.values_list("user", "role"))
    assert roles == {president.pk: Role.OFFICER, successor.pk: Role.PRESIDENT}
    entry = OrgActivity.objects.get(action=OrgActivity.Action.HANDED_OVER)
    assert (entry.actor, entry.subject) == (president, successor)


def test_hand_over_to_an_unknown_address_changes_nothing(club):
    organization, president = club
    with pytest.raises(OrgInvalid) as error:
        services.president_hand_over(
            organization_id=organization.pk, by=president, to_email="nobody@wustl.edu"
        )
    assert "to_email" in error.value.fields
    assert Officer.objects.get().role == Role.PRESIDENT


def test_an_officer_cannot_hand_over_or_manage_officers(club):
    organization, _ = club
    officer = OfficerFactory(organization=organization, role=Role.OFFICER).user
    with pytest.raises(ActionForbidden):
        services.president_hand_over(
            organization_id=organization.pk, by=officer, to_email=officer.email
        )
    with pytest.raises(ActionForbidden, match="president"):
        services.officer_invite(
            organization_id=organization.pk, by=officer, email="x@wustl.edu", role=Role.OFFICER
        )


def test_invitation_is_emailed_once_and_accepted_by_the_invited_account(club, side_effects):
    organization, president = club
    with side_effects(execute=True):
        invitation = services.officer_invite(
            organization_id=organization.pk,
            by=president,
            email="Treasurer@wustl.edu",
            role=Role.OFFICER,
        )
    assert [message.to for message in mail.outbox] == [["treasurer@wustl.edu"]]
    assert invitation.get_absolute_url() in mail.outbox[0].body
    from orgs import emails

    assert emails.invitation_email_send(invitation_id=invitation.pk) is False  # retried: not again

    stranger = UserFactory()
    with pytest.raises(ActionForbidden, match=r"treasurer@wustl\.edu"):
        services.invitation_accept(token=invitation.token, user=stranger)
    invited = UserFactory(email="treasurer@wustl.edu")
    officer = services.invitation_accept(token=invitation.token, user=invited)
    assert officer.role == Role.OFFICER
    assert OfficerInvitation.objects.get().accepted_at is not None


def test_duplicate_names_and_slugs_are_field_errors(club):
    _, president = club
    with pytest.raises(OrgInvalid) as error:
        services.organization_create(name="chess club", slug="chess", president=president)
    assert set(error.value.fields) == {"name", "slug"}
    assert Organization.objects.count() == 1


def test_csv_import_is_all_or_nothing():
    UserFactory(email="pres@wustl.edu")
    good = "name,president_email,slug\nDebate Society,pres@wustl.edu,debate\n"
    bad_row = "Go Club,missing@wustl.edu,go\n"
    result = services.organizations_import_csv(text=good + bad_row)
    assert result.created == []
    assert "missing@wustl.edu" in result.errors[0]
    assert not Organization.objects.exists()

    result = services.organizations_import_csv(text=good)
    assert [org.slug for org in result.created] == ["debate"]
    assert Officer.objects.get(organization__slug="debate").role == Role.PRESIDENT


def test_the_only_president_cannot_close_their_account(club):
    from users import services as user_services

    organization, president = club
    with pytest.raises(user_services.AccountError, match="only president of Chess Club"):
        user_services.user_delete(user=president)
    OfficerFactory(organization=organization)
    user_services.user_delete(user=president)
    assert not Officer.objects.filter(user=president).exists()


def test_import_command_and_admin_import(tmp_path, client):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    UserFactory(email="pres@wustl.edu")
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nNo President Club\n")
    with pytest.raises(CommandError, match="president_email"):
        call_command("import_orgs", str(bad))
    good = tmp_path / "orgs.csv"
    good.write_text("name,president_email\nDebate Society,pres@wustl.edu\n")
    call_command("import_orgs", str(good), "--pending")
    assert Organization.objects.get().status == Organization.Status.PENDING

    from tests.conftest import sign_in

    staff = UserFactory(is_staff=True, is_superuser=True)
    sign_in(client, staff)
    response = client.post(
        "/admin/orgs/organization/import/",
        {"file": io.BytesIO(b"name,president_email\nDebate Society,pres@wustl.edu\n")},
        follow=True,
    )
    assert "exists already" in response.content.decode()


def test_links_must_be_a_list_of_web_addresses(club):
    from django.core.exceptions import ValidationError

    organization, _ = club
    for links in ("https://x.org", ["javascript:alert(1)"]):
        organization.links = links
        with pytest.raises(ValidationError):
            organization.full_clean()
    organization.links = ["https://instagram.com/washuchess"]
    organization.full_clean()
