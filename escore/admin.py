from django.contrib import admin

from .models import ScoreEntry


@admin.register(ScoreEntry)
class ScoreEntryAdmin(admin.ModelAdmin):
    list_display = ["user", "points", "reason", "event", "created_at"]
    list_filter = ["reason", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["user__email", "user__display_name", "event__title", "note"]
    list_select_related = ["user", "event"]
    raw_id_fields = ["user", "event"]
    readonly_fields = ["created_at"]
