import functools
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from .access import (
    ACCESS_CONTACT_MAX_LENGTH,
    ALLERGENS_MAX_LENGTH,
    FEATURE_MAX_LENGTH,
    AccessFeature,
)

SEARCH_CONFIG = "english"

# Check-in is open from an hour before the start until six hours after the end.
CHECK_IN_OPENS_BEFORE = timedelta(hours=1)
CHECK_IN_CLOSES_AFTER = timedelta(hours=6)
# The organizer's choices for no-show release and the self check-in location check.
NO_SHOW_GRACE_DEFAULT_MINUTES = 10
NO_SHOW_GRACE_MAX_MINUTES = 120
CHECK_IN_RADIUS_MIN_M = 50
CHECK_IN_RADIUS_MAX_M = 2000
# Guests a student may bring on one registration, at most (the organizer picks 0 to this).
GUESTS_MAX = 10


class EventCategory(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    # Shown on events of the category that have no cover image of their own (staff set it in
    # the admin; without one, a default picture from static/).
    image = models.FileField(upload_to="categories/", blank=True, db_default="")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "event categories"

    def __str__(self) -> str:
        return self.name


class EventSeries(models.Model):
    """Events that repeat: weekly on chosen weekdays until a date, or on a list of dates.

    Each occurrence is an EventPost of its own (registrations, questions, cancellation),
    made by events.services.series; editing one may carry on to the following ones.
    """

    class Rule(models.TextChoices):
        WEEKLY = "weekly", "Weekly on chosen weekdays, until a date"
        DATES = "dates", "On a list of dates"

    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="event_series"
    )
    rule = models.CharField(max_length=10, choices=Rule)
    # Monday = 0 … Sunday = 6, for the weekly rule.
    weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    until = models.DateField(null=True, blank=True)
    dates = ArrayField(models.DateField(), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "event series"
        constraints = [
            models.CheckConstraint(
                condition=Q(rule__in=["weekly", "dates"]), name="series_rule_known"
            ),
        ]

    def __str__(self) -> str:
        return f"Series {self.pk} ({self.get_rule_display()})"


class EventPostQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=EventPost.Status.PUBLISHED)

    def upcoming(self, *, now=None):
        """Published events that have not ended yet, soonest first."""
        now = now or timezone.now()
        return self.published().filter(ends_at__gt=now).order_by("starts_at", "pk")


class EventPost(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CANCELLED = "cancelled", "Cancelled"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        SCHOOL = "school", "School accounts only"
        MEMBERS = "members", "Members of the organization only"
        UNLISTED = "unlisted", "Unlisted (only people with the link)"

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        ONLINE = "online", "Online"
        HYBRID = "hybrid", "Hybrid (in person and online)"

    class GeocodeStatus(models.TextChoices):
        PENDING = "pending", "Waiting for geocoding"
        FOUND = "found", "Found"
        NOT_FOUND = "not_found", "Location not found"
        MANUAL = "manual", "Placed by hand"

    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organized_events"
    )
    # The host: null for an event a person organizes on their own. Officers of the host run
    # it by their role (events.permissions); `organizer` stays the person who created it.
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    cohosts = models.ManyToManyField(
        "orgs.Organization", blank=True, related_name="cohosted_events"
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility, default=Visibility.PUBLIC, db_default="public"
    )
    category = models.ForeignKey(EventCategory, on_delete=models.PROTECT, related_name="events")
    # The series this event is one occurrence of, if any.
    series = models.ForeignKey(
        EventSeries,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="occurrences",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    location_name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    geocode_status = models.CharField(
        max_length=10, choices=GeocodeStatus, default=GeocodeStatus.PENDING
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Leave blank for unlimited."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    cancellation_reason = models.TextField(blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Who cancelled: the organizer, or staff moderating.
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Counters kept by events.services in the same transaction as the registration rows,
    # so list pages show seats left without counting rows.
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    waitlist_count = models.PositiveIntegerField(default=0, editable=False)
    # Walk-ins seated while every seat was taken, which the organizer allowed
    # (`walk_ins_beyond_capacity`): seats_taken may exceed capacity by this much, no more.
    seats_beyond_capacity = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # Attendance: the organizer's choices (events.services.check_in, no_shows). New columns
    # carry database defaults, so the release before them can still insert rows.
    walk_ins_beyond_capacity = models.BooleanField(
        "walk-ins when full",
        default=False,
        db_default=False,
        help_text="The room has space for more: walk-ins are checked in even when every seat "
        "is taken.",
    )
    release_no_shows = models.BooleanField(
        "release no-shows",
        default=False,
        db_default=False,
        help_text="When students are waiting, give the seats of confirmed students who have not "
        "checked in by the start plus the grace below to the waitlist.",
    )
    no_show_grace_minutes = models.PositiveSmallIntegerField(
        "grace (minutes)",
        default=NO_SHOW_GRACE_DEFAULT_MINUTES,
        db_default=NO_SHOW_GRACE_DEFAULT_MINUTES,
        validators=[MaxValueValidator(NO_SHOW_GRACE_MAX_MINUTES)],
        help_text="Minutes after the start before no-shows' seats are released.",
    )
    check_in_radius_m = models.PositiveIntegerField(
        "self check-in radius (metres)",
        null=True,
        blank=True,
        validators=[
            MinValueValidator(CHECK_IN_RADIUS_MIN_M),
            MaxValueValidator(CHECK_IN_RADIUS_MAX_M),
        ],
        help_text="Optional: students checking in with the event code must be this close to the "
        "event's place on the map (their phone's location, used once and never stored). "
        "Indoors phones are off by tens of metres: 150 is a good start. Blank: no check.",
    )
    # Registration (events.services.registration). Blank windows mean: open from publishing,
    # closed at the start; cancelling allowed while registration is open.
    registration_required = models.BooleanField(
        "registration needed",
        default=True,
        db_default=True,
        help_text="Untick for drop-in events: students just come, and still check in with the "
        "event code (or at the door) for their E-score.",
    )
    registration_opens_at = models.DateTimeField(
        "registration opens", null=True, blank=True, help_text="Blank: as soon as it is published."
    )
    registration_closes_at = models.DateTimeField(
        "registration closes",
        null=True,
        blank=True,
        help_text="Blank: when the event starts. At the latest when it ends.",
    )
    cancellation_deadline = models.DateTimeField(
        "cancel until",
        null=True,
        blank=True,
        help_text="Blank: students may cancel while registration is open.",
    )
    guests_max = models.PositiveSmallIntegerField(
        "guests per registration",
        default=0,
        db_default=0,
        validators=[MaxValueValidator(GUESTS_MAX)],
        help_text=f"How many guests a student may bring (0 to {GUESTS_MAX}); guests take seats.",
    )
    mode = models.CharField(
        "where", max_length=10, choices=Mode, default=Mode.IN_PERSON, db_default=Mode.IN_PERSON
    )
    # Private: only confirmed registrants (and the organizers) ever see it; never on public
    # pages, cards, search, feeds or the API for others (events.selectors.join_url_for).
    join_url = models.URLField(
        "join link",
        max_length=500,
        blank=True,
        db_default="",
        help_text="Online and hybrid events: the video call link. Only students with a "
        "confirmed seat see it (event page, confirmation e-mail, calendar file).",
    )
    # The cover image in three widths (events/images.py: checked by content, EXIF dropped,
    # re-encoded), stored through the default storage; alt text is required with it.
    image_large = models.FileField(max_length=200, blank=True, db_default="", editable=False)
    image_medium = models.FileField(max_length=200, blank=True, db_default="", editable=False)
    image_small = models.FileField(max_length=200, blank=True, db_default="", editable=False)
    image_alt = models.CharField(max_length=250, blank=True, db_default="", editable=False)
    # Accessibility (events.access): what the organizer promises, for search and the cards.
    access_features = ArrayField(
        models.CharField(max_length=FEATURE_MAX_LENGTH, choices=AccessFeature),
        verbose_name="accessibility",
        default=list,
        db_default=[],
        blank=True,
    )
    allergens = models.CharField(
        "allergens in the food",
        max_length=ALLERGENS_MAX_LENGTH,
        blank=True,
        db_default="",
        help_text="With “Food, allergens listed”: what the food contains, e.g. “pizza: wheat, "
        "milk; vegan and gluten-free options”.",
    )
    access_contact = models.CharField(
        "access contact",
        max_length=ACCESS_CONTACT_MAX_LENGTH,
        blank=True,
        db_default="",
        help_text="Who to ask about access or to request an accommodation, e.g. an e-mail "
        "address and by when to ask.",
    )
    # When the no-show sweep released seats (once per event).
    no_shows_released_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Computed by PostgreSQL from the row itself, so it can never be stale.
    search_vector = models.GeneratedField(
        expression=(
            SearchVector("title", weight="A", config=SEARCH_CONFIG)
            + SearchVector("location_name", weight="B", config=SEARCH_CONFIG)
            + SearchVector("description", weight="C", config=SEARCH_CONFIG)
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = EventPostQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            GinIndex(fields=["search_vector"], name="event_search_vector_gin"),
            # Upcoming published events by start time: the home page and search default.
            models.Index(
                fields=["starts_at"],
                condition=Q(status="published"),
                name="event_published_starts_idx",
            ),
            models.Index(
                fields=["category", "starts_at"],
                condition=Q(status="published"),
                name="event_published_cat_starts_idx",
            ),
            models.Index(fields=["organizer", "starts_at"], name="event_organizer_starts_idx"),
            models.Index(fields=["organization", "starts_at"], name="event_org_starts_idx"),
            # The no-show sweep: events still owed a release, by start.
            models.Index(
                fields=["starts_at"],
                condition=Q(status="published", release_no_shows=True, no_shows_released_at=None),
                name="event_no_show_release_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1),
                name="event_capacity_at_least_one",
            ),
            # The last line of defence against overselling: only walk-ins the organizer let in
            # beyond capacity may take seats past it.
            models.CheckConstraint(
                condition=Q(capacity__isnull=True)
                | Q(seats_taken__lte=F("capacity") + F("seats_beyond_capacity")),
                name="event_seats_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(no_show_grace_minutes__lte=NO_SHOW_GRACE_MAX_MINUTES),
                name="event_no_show_grace_in_range",
            ),
            models.CheckConstraint(
                condition=Q(check_in_radius_m__isnull=True)
                | Q(
                    check_in_radius_m__gte=CHECK_IN_RADIUS_MIN_M,
                    check_in_radius_m__lte=CHECK_IN_RADIUS_MAX_M,
                ),
                name="event_check_in_radius_in_range",
            ),
            models.CheckConstraint(
                condition=Q(registration_opens_at__isnull=True)
                | Q(registration_closes_at__isnull=True)
                | Q(registration_closes_at__gt=F("registration_opens_at")),
                name="event_registration_closes_after_opens",
            ),
            models.CheckConstraint(
                condition=Q(guests_max__lte=GUESTS_MAX), name="event_guests_max_in_range"
            ),
            models.CheckConstraint(
                condition=Q(mode__in=["in_person", "online", "hybrid"]), name="event_mode_known"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="event_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="event_longitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="event_coordinates_both_or_neither",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancellation_reason=""),
                name="event_cancellation_has_reason",
            ),
            # Members-only needs an organization whose members they are.
            models.CheckConstraint(
                condition=Q(visibility__in=["public", "school", "unlisted"])
                | Q(visibility="members", organization__isnull=False),
                name="event_visibility_known",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return pk_url("events:detail", self.pk)

    @property
    def seats_left(self) -> int | None:
        """Seats still free, or None when the event has no capacity limit."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.seats_taken >= self.capacity

    # The state rules below are the one answer for pages, templates, the API and services.

    @property
    def registration_ends_at(self) -> datetime:
        """When registration closes: the organizer's time, else the start."""
        return self.registration_closes_at or self.starts_at

    @property
    def cancellation_ends_at(self) -> datetime:
        """Until when students may cancel: the organizer's deadline, else registration's end."""
        return self.cancellation_deadline or self.registration_ends_at

    @property
    def registration_not_yet_open(self) -> bool:
        return (
            self.registration_opens_at is not None and timezone.now() < self.registration_opens_at
        )

    @property
    def registration_open(self) -> bool:
        """Students may register: a published event that takes registrations, inside its
        registration window (by default from publishing until the start)."""
        now = timezone.now()
        return (
            self.status == self.Status.PUBLISHED
            and self.registration_required
            and (self.registration_opens_at is None or self.registration_opens_at <= now)
            and now < self.registration_ends_at
        )

    @property
    def cancellation_open(self) -> bool:
        """Students may cancel (or leave the waitlist): published, before the deadline."""
        return self.status == self.Status.PUBLISHED and timezone.now() < self.cancellation_ends_at

    @property
    def check_in_opens_at(self) -> datetime:
        return self.starts_at - CHECK_IN_OPENS_BEFORE

    @property
    def check_in_closes_at(self) -> datetime:
        return self.ends_at + CHECK_IN_CLOSES_AFTER

    @property
    def check_in_open(self) -> bool:
        """Attendance may change now: a published event inside its check-in window."""
        now = timezone.now()
        return (
            self.status == self.Status.PUBLISHED
            and self.check_in_opens_at <= now <= self.check_in_closes_at
        )

    @property
    def no_shows_release_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.no_show_grace_minutes)


class EventRegistration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        WAITLISTED = "waitlisted", "Waitlisted"
        CANCELLED = "cancelled", "Cancelled"

    event = models.ForeignKey(EventPost, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registrations"
    )
    status = models.CharField(max_length=10, choices=Status)
    # When the student last (re-)registered: the waitlist is first come, first served.
    registered_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    # Guests the student brings (up to the event's guests_max): each takes a seat too.
    guests = models.PositiveSmallIntegerField(
        default=0, db_default=0, validators=[MaxValueValidator(GUESTS_MAX)]
    )
    # Seated at the door (by the organizer or with the event code), not registered beforehand.
    walk_in = models.BooleanField(default=False, db_default=False)
    # Cancelled by the no-show sweep: not checked in by the start plus the grace.
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["registered_at", "pk"]
        indexes = [
            # The waitlist in order, and counts per status for one event.
            models.Index(fields=["event", "status", "registered_at"], name="reg_event_status_idx"),
            models.Index(fields=["user", "status"], name="reg_user_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="registration_one_per_user"),
            # A row saved around the services (once: the admin's add form, with the status
            # read-only) had status "", and every roster of its event failed on it.
            models.CheckConstraint(
                condition=Q(status__in=["confirmed", "waitlisted", "cancelled"]),
                name="registration_status_known",
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled", cancelled_at__isnull=False)
                | (~Q(status="cancelled") & Q(cancelled_at__isnull=True)),
                name="registration_cancelled_at_iff_cancelled",
            ),
            models.CheckConstraint(
                condition=Q(guests__lte=GUESTS_MAX), name="registration_guests_in_range"
            ),
            models.CheckConstraint(
                condition=Q(checked_in_at__isnull=True) | Q(status="confirmed"),
                name="registration_checkin_only_confirmed",
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(status="cancelled"),
                name="registration_released_only_cancelled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.event} ({self.status})"

    @property
    def may_cancel(self) -> bool:
        """The student may still cancel (or leave the waitlist): before the event's
        cancellation deadline, and not checked in."""
        return (
            self.status != self.Status.CANCELLED
            and self.checked_in_at is None
            and self.event.cancellation_open
        )

    @property
    def seats(self) -> int:
        """Seats this registration holds (or waits for): the student and their guests."""
        return 1 + self.guests

    @property
    def ticket_available(self) -> bool:
        """The ticket's QR code is worth showing: a confirmed seat at a published event, not
        checked in yet (a second scan would only say "already checked in")."""
        return (
            self.status == self.Status.CONFIRMED
            and self.checked_in_at is None
            and self.event.status == EventPost.Status.PUBLISHED
        )


class EventQuestion(models.Model):
    """A question the organizer asks everyone who registers (events.services.questions)."""

    class Kind(models.TextChoices):
        TEXT = "text", "Short text"
        CHOICE = "choice", "Choice"
        YES_NO = "yes_no", "Yes / no"

    event = models.ForeignKey(EventPost, on_delete=models.CASCADE, related_name="questions")
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.TEXT)
    # The options of a choice question, in order; empty for the other kinds.
    choices = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["text", "choice", "yes_no"]), name="question_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class RegistrationAnswer(models.Model):
    """A registrant's answer to one question; deleted with the registration (or on cancel)."""

    registration = models.ForeignKey(
        EventRegistration, on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(EventQuestion, on_delete=models.CASCADE, related_name="answers")
    value = models.CharField(max_length=500)

    class Meta:
        ordering = ["question__position", "question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "question"], name="answer_one_per_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.value}"


class AttendanceRecord(models.Model):
    """One change of a registration's attendance: who made it, when, and how.

    Written in the same transaction as the change (events.services.check_in, no_shows), so
    an undone check-in still shows who checked the student in, and who took it back.
    """

    class Action(models.TextChoices):
        CHECKED_IN = "checked_in", "Checked in"
        UNDONE = "undone", "Check-in undone"
        RELEASED = "released", "Seat released (no-show)"

    class Method(models.TextChoices):
        TICKET = "ticket", "Ticket scanned"
        DOOR = "door", "Roster at the door"
        WALK_IN = "walk_in", "Walk-in added at the door"
        CODE = "code", "Event code on the student's phone"
        SWEEP = "sweep", "No-show release"
        DISPUTE = "dispute", "Score dispute accepted"

    registration = models.ForeignKey(
        EventRegistration,
        on_delete=models.CASCADE,
        related_name="attendance_records",
        # attendance_reg_created_idx leads with it.
        db_index=False,
    )
    action = models.CharField(max_length=12, choices=Action)
    method = models.CharField(max_length=10, choices=Method)
    # Null for the no-show sweep, or once the account is deleted.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["registration", "created_at"], name="attendance_reg_created_idx")
        ]

    def __str__(self) -> str:
        return f"{self.registration}: {self.get_action_display()} ({self.get_method_display()})"


class RecommendationDismissal(models.Model):
    """A student's "not interested" in an event picked for them (events.recommendations).

    The event is never picked for them again, and its category and organization count
    against similar picks; deleting the row is the undo.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recommendation_dismissals"
    )
    event = models.ForeignKey(EventPost, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="dismissal_once_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is not interested in {self.event}"


class OrganizerMessage(models.Model):
    """An e-mail an organizer sent to everyone confirmed for the event.

    The rows are also the rate limit: settings.RATELIMITS["organizer_message_event"].
    """

    event = models.ForeignKey(EventPost, on_delete=models.CASCADE, related_name="messages")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    subject = models.CharField(max_length=150)
    body = models.TextField(max_length=5000)
    recipient_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["event", "created_at"], name="orgmsg_event_created_idx")]

    def __str__(self) -> str:
        return f"{self.event}: {self.subject}"


class EventChange(models.Model):
    """An organizer's edit of an event's time or place, as registrants are told about it.

    The before and after values are kept because the e-mail task may run after yet another
    edit: each e-mail describes its own change, and the row's id makes it distinct.
    """

    event = models.ForeignKey(EventPost, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    starts_at_before = models.DateTimeField()
    ends_at_before = models.DateTimeField()
    location_name_before = models.CharField(max_length=200)
    address_before = models.CharField(max_length=300, blank=True)
    starts_at_after = models.DateTimeField()
    ends_at_after = models.DateTimeField()
    location_name_after = models.CharField(max_length=200)
    address_after = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.event} changed at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def time_changed(self) -> bool:
        return (self.starts_at_before, self.ends_at_before) != (
            self.starts_at_after,
            self.ends_at_after,
        )

    @property
    def place_changed(self) -> bool:
        return (self.location_name_before, self.address_before) != (
            self.location_name_after,
            self.address_after,
        )


class EmailDelivery(models.Model):
    """One e-mail to one person: the idempotency record of every e-mail task.

    `key` names what makes the message distinct (e.g. registration, kind and registration
    time). The row is committed as a claim before the send (`sent_at`, when sending began),
    the send runs outside any transaction, and `accepted_at` records the mail server's
    acceptance; a task that runs again finds the key and sends nothing (see events.emails).
    """

    class Kind(models.TextChoices):
        CONFIRMED = "confirmed", "Registration confirmed"
        WAITLISTED = "waitlisted", "Added to the waitlist"
        PROMOTED = "promoted", "Promoted from the waitlist"
        RELEASED = "released", "Seat released (no-show)"
        REMINDER = "reminder", "Reminder before the event"
        EVENT_CHANGED = "event_changed", "Event changed"
        EVENT_CANCELLED = "event_cancelled", "Event cancelled"
        ORGANIZER_MESSAGE = "organizer_message", "Organizer message"
        ORG_INVITATION = "org_invitation", "Officer invitation"
        DIGEST = "digest", "Weekly digest of new events"
        SAVED_SEARCH = "saved_search", "New events for a saved search"
        DISPUTE_DECIDED = "dispute_decided", "Score dispute decided"
        DISPUTE_OPENED = "dispute_opened", "Score dispute to decide"

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_deliveries"
    )
    registration = models.ForeignKey(
        EventRegistration,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="email_deliveries",
    )
    # The address it went to; the account's address may change later.
    recipient = models.EmailField()
    sent_at = models.DateTimeField(default=timezone.now)
    # Empty while the e-mail is being sent; a claim left empty too long is taken over.
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name_plural = "e-mail deliveries"
        indexes = [
            # The reminder sweep's NOT EXISTS: this registration's recent e-mails of a kind.
            models.Index(
                fields=["registration", "kind", "sent_at"], name="emaildelivery_reg_kind_idx"
            ),
            # The daily clean-up deletes by age.
            models.Index(fields=["sent_at"], name="emaildelivery_sent_at_idx"),
        ]

    def __str__(self) -> str:
        return self.key


class GeocodeCache(models.Model):
    """Google's answer for one normalised address, so the free tier is spent once per address.

    Rows are deleted by age (`GEOCODE_CACHE_MAX_AGE_DAYS`): Google's terms allow caching
    geocodes only temporarily. Only Google's answers are stored; the gazetteer is free.
    """

    class Status(models.TextChoices):
        FOUND = "found", "Found"
        NOT_FOUND = "not_found", "Not found"

    address = models.CharField(max_length=520, unique=True, help_text="Normalised query text.")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at"], name="geocode_cache_updated_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status="found",
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                )
                | Q(status="not_found", latitude__isnull=True, longitude__isnull=True),
                name="geocode_cache_found_has_coordinates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.status})"


class SearchSynonym(models.Model):
    """A campus abbreviation or nickname and what it stands for ("bball" → "basketball").

    Search matches the term or any of its expansions; suggestions complete the expansion.
    Staff edit them in the admin; events.search.synonyms caches them and forgets on save.
    """

    term = models.CharField(
        max_length=40,
        help_text="One word, as students type it (stored in lower case), e.g. “duc”.",
    )
    expansion = models.CharField(
        max_length=100, help_text="What it stands for, e.g. “Danforth University Center”."
    )

    class Meta:
        ordering = ["term", "expansion"]
        constraints = [
            models.UniqueConstraint(fields=["term", "expansion"], name="search_synonym_unique"),
            models.CheckConstraint(
                condition=Q(term__regex=r"^[a-z0-9]+$"), name="search_synonym_term_one_word"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.expansion}"

    def save(self, *args, **kwargs) -> None:
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Before the constraints are checked, so "DUC" typed in the admin is stored as "duc".
        self.term = self.term.strip().lower()
        self.expansion = " ".join(self.expansion.split())


class SavedSearch(models.Model):
    """A student's search (words, filters, place), kept to run again, as a calendar feed and
    as a daily e-mail of new matches (events.services.saved_searches).

    `query` holds the search page's own parameters (`{"q": ["jazz"], "category": [...]}`), so
    the feed and the e-mail run it through the same `parse_search_params` and
    `event_search` as the page. The feed's secret is kept only as its SHA-256
    (`feed_token_hash`); null when the feed is off (never made, or revoked).
    """

    MAX_PER_USER = 20
    # The events the daily e-mail has already told about (or that matched when saved).
    SEEN_EVENTS_KEPT = 500

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(max_length=100)
    query = models.JSONField(default=dict, blank=True)
    feed_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    email_alerts = models.BooleanField(
        default=False, help_text="E-mail new matching events, at most once a day."
    )
    seen_event_ids = models.JSONField(default=list, blank=True)
    last_alerted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "created_at"], name="saved_search_user_idx")]

    def __str__(self) -> str:
        return f"{self.user}: {self.name}"

    def get_absolute_url(self) -> str:
        return f"{reverse('events:search')}?{self.query_string}"

    @property
    def query_string(self) -> str:
        return urlencode(self.query, doseq=True)

    @property
    def has_feed(self) -> bool:
        return self.feed_token_hash is not None


_PK_PLACEHOLDER = 987654321


@functools.lru_cache(maxsize=32)
def _pk_url_pattern(
    viewname: str, script_prefix: str, urlconf: str | None, root_urlconf: str
) -> str:
    url = reverse(viewname, kwargs={"pk": _PK_PLACEHOLDER})
    return url.replace("{", "{{").replace("}", "}}").replace(str(_PK_PLACEHOLDER), "{}")


def pk_url(viewname: str, pk: int) -> str:
    """`reverse(viewname, kwargs={"pk": pk})` for a route whose one argument is an integer
    id, from a pattern reversed once: reverse() for each of a result page's 20 events was
    about a tenth of a search request (docs/BENCHMARKS.md, search profile)."""
    return _pk_url_pattern(
        viewname, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF
    ).format(int(pk))
