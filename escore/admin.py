from django.contrib import admin

from core import outbox

from . import tasks
from .models import ScoreDispute, ScoreEntry


@admin.register(ScoreEntry)
class ScoreEntryAdmin(admin.ModelAdmin):
    """The ledger is append-only: staff add adjustments; nothing is edited or deleted."""

    list_display = ["user", "points", "reason", "generation", "event", "created_at"]
    list_filter = ["reason", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["user__email", "user__display_name", "event__title", "note"]
    list_select_related = ["user", "event"]
    raw_id_fields = ["user", "event"]
    readonly_fields = ["created_at"]

    def get_changeform_initial_data(self, request):
        return {
            "reason": ScoreEntry.Reason.ADJUSTMENT,
            **super().get_changeform_initial_data(request),
        }

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewing is allowed (the change page renders read-only); saving a change is not.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # The leaderboards show the new total once the entry is committed.
        outbox.add(tasks.leaderboard_refresh_user, obj.user_id)


@admin.register(ScoreDispute)
class ScoreDisputeAdmin(admin.ModelAdmin):
    """Every dispute and its decision, to look up; deciding happens on the Score disputes page
    (/organize/disputes/), which checks the student in and writes the ledger."""

    list_display = ["user", "event", "status", "decided_by", "decided_at", "created_at"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["user__email", "user__display_name", "event__title", "note"]
    list_select_related = ["user", "event", "decided_by"]
    raw_id_fields = ["user", "event", "entry", "decided_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
