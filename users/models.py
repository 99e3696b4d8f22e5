import secrets
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.postgres.fields import ArrayField
from django.core import signing
from django.db import models
from django.db.models.functions import Lower

from events.access import FEATURE_MAX_LENGTH, AccessFeature

from .addresses import email_canonical
from .pseudonyms import pseudonym_generate


class UserManager(DjangoUserManager["User"]):
    """E-mail is the login: there is no username. Addresses are kept and found in their
    canonical form (users.addresses), so one mailbox is one account."""

    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # Also what AbstractUser.clean() applies, so the admin's forms store this form too.
        return email_canonical(email or "")

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # Exact match on the canonical form: a case-insensitive match in the database would
        # let look-alikes through (PostgreSQL's UPPER of the dotless i, U+0131, is 'I').
        return self.get(email=email_canonical(username))


class User(AbstractUser):
    class LeaderboardVisibility(models.TextChoices):
        PSEUDONYM = "pseudonym", "Show my pseudonym"
        PUBLIC = "public", "Show my name"
        HIDDEN = "hidden", "Hide me"

    class Affiliation(models.TextChoices):
        STUDENT = "student", "Student"
        STAFF = "staff", "Staff"
        FACULTY = "faculty", "Faculty"

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    display_name = models.CharField(max_length=80, blank=True)
    is_organizer = models.BooleanField(
        default=False, help_text="May create events and check attendees in."
    )
    # Private by default (FERPA directory holds): a pseudonym, unless the student opts in.
    leaderboard_visibility = models.CharField(
        max_length=10,
        choices=LeaderboardVisibility,
        default=LeaderboardVisibility.PSEUDONYM,
    )
    pseudonym = models.CharField(max_length=40, blank=True, default=pseudonym_generate)
    email_reminders = models.BooleanField(
        default=True, help_text="E-mail a reminder the day before each event registered for."
    )
    # What the campus identity provider last asserted (users.sso), updated on each sign-in;
    # blank for accounts that never signed in with the WUSTL Key.
    # db_default: rows written outside the ORM (bench/generate_events.py, imports) need none;
    # default: an unsaved user (allauth keeps one in the session while linking) has "".
    affiliation = models.CharField(
        max_length=10, choices=Affiliation, blank=True, default="", db_default=""
    )
    # Accessibility needs (events.access), saved once: matching events come first for them.
    access_needs = ArrayField(
        models.CharField(max_length=FEATURE_MAX_LENGTH, choices=AccessFeature),
        default=list,
        db_default=[],
        blank=True,
    )
    # Secret part of the personal calendar feed URL; calendar apps cannot log in.
    calendar_token = models.CharField(max_length=64, unique=True, null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    # Signs the one-click "no more reminders" links in reminder e-mails.
    REMINDERS_OFF_SALT = "users.reminders-off"

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            # The unique index on email is case-sensitive; addresses are not.
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            # Stored canonical (users.addresses): lower case and no +tag, so the unique
            # indexes above hold per mailbox, not per spelling.
            models.CheckConstraint(
                condition=models.Q(email=Lower("email"))
                & ~models.Q(email__regex=r"^[^@+]+\+[^@]*@"),
                name="user_email_canonical",
            ),
            models.CheckConstraint(
                condition=~models.Q(leaderboard_visibility="pseudonym") | ~models.Q(pseudonym=""),
                name="user_pseudonym_required_when_chosen",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.display_name or self.email.split("@")[0]

    def get_short_name(self) -> str:
        return self.get_full_name()

    def calendar_token_rotate(self) -> str:
        """Issue a new feed token, which revokes the old feed URL."""
        self.calendar_token = secrets.token_urlsafe(32)
        self.save(update_fields=["calendar_token"])
        return self.calendar_token

    def reminders_off_token(self) -> str:
        """Names the user in the link that turns reminders off without logging in
        (users.services.user_reminders_turn_off). It does not expire: an old reminder's link
        keeps working, and it can do only that one thing."""
        return signing.dumps(self.pk, salt=self.REMINDERS_OFF_SALT, compress=True)

    @property
    def leaderboard_name(self) -> str | None:
        """The name shown on the leaderboard, or None when the student chose to hide.

        Their own name only when they chose it and gave one; never anything from the e-mail
        address (the leaderboard is not the place to learn who studies here)."""
        if self.leaderboard_visibility == self.LeaderboardVisibility.HIDDEN:
            return None
        if self.leaderboard_visibility == self.LeaderboardVisibility.PUBLIC and self.display_name:
            return self.display_name
        return self.pseudonym or None


class OrganizerRequest(models.Model):
    """A student asking for the organizer role; staff approve or reject it in the admin."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for staff"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Not approved"

    REASON_MAX_LENGTH = 500

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="organizer_requests")
    reason = models.CharField(max_length=REASON_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open request at a time; a rejected student may ask again later.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="organizer_request_one_pending",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(decided_at__isnull=False)),
                name="organizer_request_decided_at_iff_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_status_display()})"


class SsoAssertion(models.Model):
    """A SAML assertion already used to sign in, kept until it expires so a replay of the same
    response is refused (users.sso_saml). In the database, not Redis: a cache may drop it."""

    assertion_id = models.CharField(max_length=256, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.assertion_id
