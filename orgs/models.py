"""Student organizations: who hosts events, who runs them (officers), who belongs and follows.

An organization always keeps at least one president: every officer change locks the
organization's row (orgs.services.officers), so two changes cannot each remove "the other"
president at once.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


def _invitation_token() -> str:
    return secrets.token_urlsafe(24)


class Organization(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for staff approval"
        APPROVED = "approved", "Approved"

    class JoinPolicy(models.TextChoices):
        OPEN = "open", "Anyone may join"
        APPROVAL = "approval", "Officers approve each member"

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True, max_length=5000)
    # A URL, not an upload: pods run with read-only file systems and no media storage yet.
    logo_url = models.URLField("logo URL", blank=True)
    category = models.ForeignKey(
        "events.EventCategory",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="organizations",
    )
    contact_email = models.EmailField("contact e-mail", blank=True)
    website = models.URLField(blank=True)
    # Further links (social accounts, sign-up forms), one URL each.
    links = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    join_policy = models.CharField(max_length=10, choices=JoinPolicy, default=JoinPolicy.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # "Chess Club" and "chess club" are one organization.
            models.UniqueConstraint(Lower("name"), name="org_name_unique_ci"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved"]), name="org_status_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("orgs:detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        """`links` is a list of web addresses (the page renders each as a link)."""
        validate = URLValidator(schemes=["https", "http"])
        if not isinstance(self.links, list) or not all(isinstance(u, str) for u in self.links):
            raise ValidationError({"links": 'A list of addresses, e.g. ["https://…"].'})
        for url in self.links:
            try:
                validate(url)
            except ValidationError as error:
                raise ValidationError({"links": f"Not a web address: {url}"}) from error

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class Officer(models.Model):
    class Role(models.TextChoices):
        PRESIDENT = "president", "President"
        OFFICER = "officer", "Officer"
        EVENT_MANAGER = "event_manager", "Event manager"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="officers"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="officer_roles"
    )
    role = models.CharField(max_length=15, choices=Role)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization", "role", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="officer_one_per_user"),
            models.CheckConstraint(
                condition=Q(role__in=["president", "officer", "event_manager"]),
                name="officer_role_known",
            ),
        ]
        indexes = [models.Index(fields=["user", "role"], name="officer_user_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organization})"


class OfficerInvitation(models.Model):
    """An e-mailed invitation to become an officer; the account with that address accepts it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=15, choices=Officer.Role)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the mail server took the invitation e-mail (orgs.emails): a retry sends nothing.
    emailed_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Presidents are named by hand-over, never by an invitation.
            models.CheckConstraint(
                condition=Q(role__in=["officer", "event_manager"]),
                name="invitation_role_not_president",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization} ({self.role})"

    def get_absolute_url(self) -> str:
        return reverse("orgs:invitation", kwargs={"token": self.token})


class Membership(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Member"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    status = models.CharField(max_length=10, choices=Status)
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_one_per_user"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", approved_at__isnull=True)
                | Q(status="approved", approved_at__isnull=False),
                name="membership_approved_at_iff_approved",
            ),
        ]
        indexes = [models.Index(fields=["user", "status"], name="membership_user_status_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.status})"


class OrganizationFollow(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_follows"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="org_follow_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} follows {self.organization}"


class CategoryFollow(models.Model):
    category = models.ForeignKey(
        "events.EventCategory", on_delete=models.CASCADE, related_name="follows"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="category_follows"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "category"], name="category_follow_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} follows {self.category}"


class DigestSettings(models.Model):
    """The weekly "new events" e-mail: on for followed organizations, off for categories.

    No row means the defaults; a row exists once the student changes one or a digest went out.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_settings"
    )
    organizations = models.BooleanField("new events of organizations I follow", default=True)
    categories = models.BooleanField("new events in categories I follow", default=False)

    class Meta:
        verbose_name_plural = "digest settings"

    def __str__(self) -> str:
        return f"Digest of {self.user}"


class OrgActivity(models.Model):
    """The audit trail of an organization: who did what, to which event or person, when.

    Written in the same transaction as the change (orgs.services, and events.services for
    events an organization hosts). Check-ins are in events.AttendanceRecord.
    """

    class Action(models.TextChoices):
        OFFICER_INVITED = "officer_invited", "Invited an officer"
        OFFICER_JOINED = "officer_joined", "Became an officer"
        ROLE_CHANGED = "role_changed", "Changed an officer's role"
        OFFICER_REMOVED = "officer_removed", "Removed an officer"
        HANDED_OVER = "handed_over", "Handed the presidency over"
        MEMBER_APPROVED = "member_approved", "Approved a member"
        ORG_EDITED = "org_edited", "Edited the organization"
        EVENT_CREATED = "event_created", "Created an event"
        EVENT_EDITED = "event_edited", "Edited an event"
        EVENT_PUBLISHED = "event_published", "Published an event"
        EVENT_CANCELLED = "event_cancelled", "Cancelled an event"
        EVENT_MESSAGED = "event_messaged", "Messaged an event's attendees"
        EVENT_MOVED_IN = "event_moved_in", "Moved an event to the organization"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="activity", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action)
    event = models.ForeignKey(
        "events.EventPost", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "organization activity"
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="orgactivity_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.get_action_display()}"
