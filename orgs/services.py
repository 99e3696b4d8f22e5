"""Writes for organizations: officers (invite, accept, role, remove, hand-over), members,
follows, digest settings, edits and the CSV import.

The president rule: an organization always keeps at least one president. Every officer
change locks the organization's row first (`_org_locked`), so two presidents stepping down
at once are serialized and the second is refused (LastPresident).
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from core import outbox
from events import permissions
from events.models import EventCategory
from events.permissions import OrgAction
from events.recommendations import recommendations_forget_on_commit
from users.addresses import email_canonical
from users.models import User

from . import audit, tasks
from .errors import LastPresident, OrgConflict, OrgInvalid, OrgNotFound
from .models import (
    CategoryFollow,
    DigestSettings,
    Membership,
    Officer,
    OfficerInvitation,
    OrgActivity,
    Organization,
    OrganizationFollow,
)

Role = Officer.Role
Activity = OrgActivity.Action

ORG_EDITABLE_FIELDS = (
    "description",
    "logo_url",
    "contact_email",
    "website",
    "join_policy",
    "category",
)


def _org_locked(organization_id: int) -> Organization:
    organization = Organization.objects.select_for_update().filter(pk=organization_id).first()
    if organization is None:
        raise OrgNotFound()
    return organization


def _approved(organization_id: int) -> Organization:
    organization = Organization.objects.filter(
        pk=organization_id, status=Organization.Status.APPROVED
    ).first()
    if organization is None:
        raise OrgNotFound()
    return organization


def _presidents_other_than(organization: Organization, user_id: int) -> int:
    return (
        Officer.objects.filter(organization=organization, role=Role.PRESIDENT)
        .exclude(user_id=user_id)
        .count()
    )


# --- Creating and editing -----------------------------------------------------------------


def _validate_name_and_slug(*, name: str, slug: str, exclude_pk: int | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Give the organization a name."]
    if not slug:
        errors["slug"] = ["Give the organization a short address (letters, digits, dashes)."]
    others = Organization.objects.all()
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if name and others.annotate(lower=Lower("name")).filter(lower=name.strip().lower()).exists():
        errors.setdefault("name", []).append("An organization with this name exists already.")
    if slug and others.filter(slug=slug).exists():
        errors.setdefault("slug", []).append("This address is taken by another organization.")
    if errors:
        raise OrgInvalid(errors)


@transaction.atomic
def organization_create(
    *,
    name: str,
    president: User,
    slug: str = "",
    approved: bool = False,
    category: EventCategory | None = None,
    **fields,
) -> Organization:
    """A new organization with its first president (staff create and approve them)."""
    name = name.strip()
    slug = slug or slugify(name)[:80]
    _validate_name_and_slug(name=name, slug=slug)
    organization = Organization(name=name, slug=slug, category=category, **fields)
    if approved:
        organization.status = Organization.Status.APPROVED
        organization.approved_at = timezone.now()
    try:
        organization.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise OrgInvalid(error.message_dict) from error
    organization.save()
    Officer.objects.create(organization=organization, user=president, role=Role.PRESIDENT)
    return organization


@transaction.atomic
def organization_update(*, organization_id: int, by: User, **changes) -> Organization:
    unknown = set(changes) - set(ORG_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    organization = _org_locked(organization_id)
    permissions.org_check_access(user=by, organization=organization, action=OrgAction.EDIT)
    changed = [name for name, value in changes.items() if getattr(organization, name) != value]
    for name in changed:
        setattr(organization, name, changes[name])
    try:
        organization.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise OrgInvalid(error.message_dict) from error
    if changed:
        organization.save(update_fields=changed)
        audit.record(
            organization_id=organization.pk,
            actor=by,
            action=Activity.ORG_EDITED,
            detail=", ".join(changed),
        )
    return organization


# --- Officers -------------------------------------------------------------------------------


@transaction.atomic
def officer_invite(*, organization_id: int, by: User, email: str, role: str) -> OfficerInvitation:
    """Invite someone by e-mail to be an officer; the e-mail is an outbox row of this write."""
    organization = _org_locked(organization_id)
    permissions.org_check_access(user=by, organization=organization, action=OrgAction.OFFICERS)
    email = email_canonical(email)
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Type a full e-mail address."]
    if role not in (Role.OFFICER, Role.EVENT_MANAGER):
        errors["role"] = ["Invite officers or event managers; a president is named by hand-over."]
    if errors:
        raise OrgInvalid(errors)
    if Officer.objects.filter(organization=organization, user__email=email).exists():
        raise OrgInvalid({"email": ["This person is an officer already."]})
    invitation = OfficerInvitation.objects.create(
        organization=organization, email=email, role=role, invited_by=by
    )
    audit.record(
        organization_id=organization.pk,
        actor=by,
        action=Activity.OFFICER_INVITED,
        detail=f"{email} as {Role(role).label}",
    )
    outbox.add(tasks.officer_invitation_send, invitation.pk, key=f"org-invitation:{invitation.pk}")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Officer:
    """The invited person (logged in with the invited address) becomes an officer."""
    invitation = OfficerInvitation.objects.select_for_update().filter(token=token).first()
    if invitation is None:
        raise OrgNotFound("This invitation does not exist (or was withdrawn).")
    if email_canonical(user.email) != invitation.email:
        raise permissions.ActionForbidden(
            f"This invitation is for {invitation.email}. Log in with that address to accept it."
        )
    organization = _org_locked(invitation.organization_id)
    officer = Officer.objects.filter(organization=organization, user=user).first()
    if invitation.accepted_at is not None or officer is not None:
        if officer is None:
            raise OrgConflict("This invitation was used already.")
        return officer
    officer = Officer.objects.create(organization=organization, user=user, role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit.record(
        organization_id=organization.pk, actor=user, action=Activity.OFFICER_JOINED, subject=user
    )
    return officer


@transaction.atomic
def officer_role_change(*, organization_id: int, by: User, user_id: int, role: str) -> Officer:
    """The president changes an officer's role; the last president cannot be demoted."""
    organization = _org_locked(organization_id)
    permissions.org_check_access(user=by, organization=organization, action=OrgAction.OFFICERS)
    if role not in Role.values:
        raise OrgInvalid({"role": ["Choose president, officer or event manager."]})
    officer = Officer.objects.filter(organization=organization, user_id=user_id).first()
    if officer is None:
        raise OrgNotFound("This person is not an officer of the organization.")
    if officer.role == role:
        return officer
    if officer.role == Role.PRESIDENT and not _presidents_other_than(organization, user_id):
        raise LastPresident()
    before = officer.role
    officer.role = role
    officer.save(update_fields=["role"])
    audit.record(
        organization_id=organization.pk,
        actor=by,
        action=Activity.ROLE_CHANGED,
        subject=officer.user,
        detail=f"{Role(before).label} → {Role(role).label}",
    )
    return officer


@transaction.atomic
def officer_remove(*, organization_id: int, by: User, user_id: int) -> None:
    """The president removes an officer, or an officer steps down; never the last president."""
    organization = _org_locked(organization_id)
    if by.pk != user_id:
        permissions.org_check_access(user=by, organization=organization, action=OrgAction.OFFICERS)
    officer = Officer.objects.filter(organization=organization, user_id=user_id).first()
    if officer is None:
        raise OrgNotFound("This person is not an officer of the organization.")
    if officer.role == Role.PRESIDENT and not _presidents_other_than(organization, user_id):
        raise LastPresident()
    officer.delete()
    audit.record(
        organization_id=organization.pk,
        actor=by,
        action=Activity.OFFICER_REMOVED,
        subject=officer.user,
    )


@transaction.atomic
def president_hand_over(
    *, organization_id: int, by: User, to_email: str, stay_as: str | None = Role.OFFICER
) -> Officer:
    """The outgoing president names the next one, without staff: the named account becomes
    president, the outgoing one stays on as `stay_as` (or leaves, with None)."""
    organization = _org_locked(organization_id)
    outgoing = Officer.objects.filter(organization=organization, user=by).first()
    if outgoing is None or outgoing.role != Role.PRESIDENT:
        raise permissions.ActionForbidden("Only a president can hand the presidency over.")
    if stay_as is not None and stay_as not in (Role.OFFICER, Role.EVENT_MANAGER):
        raise OrgInvalid({"stay_as": ["Stay on as officer or event manager, or leave."]})
    successor_user = User.objects.filter(email=email_canonical(to_email), is_active=True).first()
    if successor_user is None:
        raise OrgInvalid({"to_email": ["There is no E-Ren account with this address."]})
    if successor_user.pk == by.pk:
        raise OrgInvalid({"to_email": ["Name someone else as the next president."]})
    successor, _ = Officer.objects.update_or_create(
        organization=organization, user=successor_user, defaults={"role": Role.PRESIDENT}
    )
    if stay_as is None:
        outgoing.delete()
    else:
        outgoing.role = stay_as
        outgoing.save(update_fields=["role"])
    audit.record(
        organization_id=organization.pk,
        actor=by,
        action=Activity.HANDED_OVER,
        subject=successor_user,
        detail="stays as " + Role(stay_as).label if stay_as else "left the officers",
    )
    return successor


# --- Members and followers --------------------------------------------------------------------


def membership_join(*, organization_id: int, user: User) -> Membership:
    """Join: a member at once when the organization is open, else waiting for an officer."""
    if not user.is_authenticated:
        raise permissions.NotAuthenticated()
    organization = _approved(organization_id)
    is_open = organization.join_policy == Organization.JoinPolicy.OPEN
    status = Membership.Status.APPROVED if is_open else Membership.Status.PENDING
    membership, _ = Membership.objects.get_or_create(
        organization=organization,
        user=user,
        defaults={"status": status, "approved_at": timezone.now() if is_open else None},
    )
    return membership


def membership_leave(*, organization_id: int, user: User) -> bool:
    """Leave (or withdraw a request); True when there was a membership."""
    deleted, _ = Membership.objects.filter(organization_id=organization_id, user=user).delete()
    return bool(deleted)


@transaction.atomic
def membership_approve(*, organization_id: int, by: User, user_id: int) -> Membership:
    organization = _org_locked(organization_id)
    permissions.org_check_access(user=by, organization=organization, action=OrgAction.MEMBERS)
    membership = (
        Membership.objects.select_for_update()
        .filter(organization=organization, user_id=user_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise OrgNotFound("This person has not asked to join.")
    if membership.status != Membership.Status.APPROVED:
        membership.status = Membership.Status.APPROVED
        membership.approved_at = timezone.now()
        membership.save(update_fields=["status", "approved_at"])
        audit.record(
            organization_id=organization.pk,
            actor=by,
            action=Activity.MEMBER_APPROVED,
            subject=membership.user,
        )
    return membership


@transaction.atomic
def membership_decline(*, organization_id: int, by: User, user_id: int) -> None:
    organization = _org_locked(organization_id)
    permissions.org_check_access(user=by, organization=organization, action=OrgAction.MEMBERS)
    Membership.objects.filter(organization=organization, user_id=user_id).delete()


def organization_follow(*, organization_id: int, user: User) -> None:
    if not user.is_authenticated:
        raise permissions.NotAuthenticated()
    organization = _approved(organization_id)
    OrganizationFollow.objects.get_or_create(organization=organization, user=user)
    # Follows rank "For you": the picks show the change at once.
    recommendations_forget_on_commit(user_id=user.pk)


def organization_unfollow(*, organization_id: int, user: User) -> None:
    OrganizationFollow.objects.filter(organization_id=organization_id, user=user).delete()
    recommendations_forget_on_commit(user_id=user.pk)


def category_follow(*, category: EventCategory, user: User) -> None:
    if not user.is_authenticated:
        raise permissions.NotAuthenticated()
    CategoryFollow.objects.get_or_create(category=category, user=user)
    recommendations_forget_on_commit(user_id=user.pk)


def category_unfollow(*, category: EventCategory, user: User) -> None:
    CategoryFollow.objects.filter(category=category, user=user).delete()
    recommendations_forget_on_commit(user_id=user.pk)


def digest_settings_update(
    *, user: User, organizations: bool | None = None, categories: bool | None = None
) -> DigestSettings:
    changes = {
        name: value
        for name, value in (("organizations", organizations), ("categories", categories))
        if value is not None
    }
    digest, _ = DigestSettings.objects.update_or_create(user=user, defaults=changes)
    return digest


# --- The staff's CSV import -------------------------------------------------------------------

IMPORT_COLUMNS = ("name", "slug", "category", "contact_email", "website", "description")


@dataclass
class ImportResult:
    created: list[Organization]
    errors: list[str]


def organizations_import_csv(*, text: str, approve: bool = True) -> ImportResult:
    """Create organizations from CSV (header: name, president_email, then any of
    IMPORT_COLUMNS). All or nothing: any bad row imports none and lists every problem."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"name", "president_email"} - set(reader.fieldnames or ())
    if missing:
        return ImportResult([], [f"The header lacks: {', '.join(sorted(missing))}."])
    rows = list(reader)
    errors: list[str] = []
    created: list[Organization] = []
    categories = {c.slug: c for c in EventCategory.objects.all()}
    try:
        with transaction.atomic():
            for number, row in enumerate(rows, start=2):
                errors.extend(_import_row(row, number, categories, approve, created))
            if errors:
                raise _ImportFailed()
    except _ImportFailed:
        return ImportResult([], errors)
    return ImportResult(created, [])


class _ImportFailed(Exception):
    pass


def _import_row(
    row: dict[str, str],
    number: int,
    categories: dict[str, EventCategory],
    approve: bool,
    created: list[Organization],
) -> Iterable[str]:
    values = {key: (row.get(key) or "").strip() for key in (*IMPORT_COLUMNS, "president_email")}
    president = User.objects.filter(email=email_canonical(values["president_email"])).first()
    if president is None:
        return [f"Line {number}: no account has the address {values['president_email']!r}."]
    category = None
    if values["category"]:
        category = categories.get(values["category"])
        if category is None:
            return [f"Line {number}: unknown category {values['category']!r}."]
    try:
        with transaction.atomic():
            created.append(
                organization_create(
                    name=values["name"],
                    slug=values["slug"],
                    president=president,
                    approved=approve,
                    category=category,
                    contact_email=values["contact_email"],
                    website=values["website"],
                    description=values["description"],
                )
            )
    except OrgInvalid as error:
        return [
            f"Line {number}: {name}: {' '.join(messages)}"
            for name, messages in error.fields.items()
        ]
    except IntegrityError:
        return [f"Line {number}: this organization exists already."]
    return []
