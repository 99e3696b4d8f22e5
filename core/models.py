from django.db import models
from django.db.models.functions import Now


class OutboxMessage(models.Model):
    """A side effect of an accepted action, kept until a task has carried it out.

    Written in the action's own transaction (core.outbox.add), so a committed registration
    always has its e-mail row, and a rolled-back one has none. The relay hands due rows to
    Celery; the task marks its row done, or schedules the next attempt; after
    OUTBOX_DEAD_AFTER of failures the row is dead and waits for staff to resend it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        DEAD = "dead", "Dead letter"

    # The Celery task's registered name and its positional arguments (ids, short strings).
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    # What makes the side effect distinct: adding a second row with the same key is a no-op.
    key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # The relay hands the row to Celery from this time on (again after a lease or back-off).
    available_at = models.DateTimeField(db_default=Now())
    # A task that claimed the row runs it until then; another copy of it does nothing.
    locked_until = models.DateTimeField(null=True, blank=True)
    # When the current run of failures began; a row failing for OUTBOX_DEAD_AFTER_HOURS dies.
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(db_default=Now())
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The relay's scan and the oldest-pending gauge read only pending rows.
            models.Index(
                fields=["available_at"],
                condition=models.Q(status="pending"),
                name="outbox_pending_due_idx",
            ),
            models.Index(fields=["status", "created_at"], name="outbox_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} [{self.status}]"
