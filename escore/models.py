from django.conf import settings
from django.db import models
from django.db.models import Q


class ScoreEntry(models.Model):
    """One line of the E-score ledger, the only truth of a student's score.

    Append-only. Unique per (user, event, reason, generation), so an award is never counted
    twice however often the task that grants it runs. `generation` numbers the cycles of one
    award for one event: a check-in earns `attended` generation 1, undoing it appends
    `attended_reversed` generation 1, checking in again appends `attended` generation 2, and
    so on. Every cycle is a new pair of rows, so the ledger never needs an UPDATE or a
    DELETE and still shows the student what happened.
    """

    class Reason(models.TextChoices):
        ATTENDED = "attended", "Attended an event"
        ATTENDED_REVERSED = "attended_reversed", "Check-in undone"
        NEW_CATEGORY = "new_category", "First event in a new category"
        NEW_CATEGORY_REVERSED = "new_category_reversed", "Check-in undone (category bonus)"
        ORGANIZED = "organized", "Organized an event that took place"
        ADJUSTMENT = "adjustment", "Adjustment by staff"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="score_entries"
    )
    event = models.ForeignKey(
        "events.EventPost",
        # The ledger keeps its references: events are cancelled, not deleted.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="score_entries",
    )
    points = models.IntegerField()
    reason = models.CharField(max_length=30, choices=Reason)
    generation = models.PositiveSmallIntegerField(
        default=1, help_text="1 for the first award; each re-award after a reversal adds one."
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "score entries"
        indexes = [models.Index(fields=["user", "created_at"], name="score_user_created_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event", "reason", "generation"],
                name="score_once_per_user_event_reason_generation",
            ),
            models.CheckConstraint(
                condition=models.Q(generation__gte=1), name="score_generation_positive"
            ),
            models.CheckConstraint(condition=~models.Q(points=0), name="score_points_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.points:+d} ({self.get_reason_display()})"


class ScoreDispute(models.Model):
    """A student's claim that an attendance entry is missing (or wrongly reversed).

    The event's organizer (or its hosts' officers) or staff decide: accepting checks the
    student in after the fact, which writes the ledger's `attended` entry through the usual
    sync, with who decided in its note; rejecting needs a reason. Either way the student is
    told (e-mail through the outbox, and on their E-score page). At most one open dispute
    per student and event, by constraint.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    # A dispute is refused for events that ended longer ago than this.
    WINDOW_DAYS = 30

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="score_disputes"
    )
    event = models.ForeignKey(
        "events.EventPost", on_delete=models.PROTECT, related_name="score_disputes"
    )
    # The entry the student disputes (e.g. a check-in undone), when there is one.
    entry = models.ForeignKey(
        ScoreEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="disputes"
    )
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event"],
                condition=Q(status="pending"),
                name="score_dispute_one_open_per_event",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="score_dispute_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(decision_reason=""),
                name="score_dispute_rejection_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="score_dispute_status_idx")]

    def __str__(self) -> str:
        return f"{self.user} on {self.event_id}: {self.get_status_display()}"
