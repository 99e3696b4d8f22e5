"""The outbox in the admin: what is pending, what failed and why, and resending dead letters."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from . import outbox
from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["task", "args", "status", "attempts", "available_at", "created_at"]
    list_filter = ["status", "task"]
    search_fields = ["key", "task"]
    ordering = ["-created_at"]
    actions = ["resend_selected"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Viewing only: a row changes through the relay, its task, or "resend".
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.change_outboxmessage")

    def get_list_display(self, request: HttpRequest) -> list:
        """The columns, with a one-click "Resend" on each dead letter for those who may."""
        if not self.has_resend_permission(request):
            return self.list_display
        token = get_token(request)

        @admin.display(description="")
        def resend(message: OutboxMessage) -> str:
            if message.status != OutboxMessage.Status.DEAD:
                return ""
            return format_html(
                '<form method="post" action="{}"><input type="hidden" '
                'name="csrfmiddlewaretoken" value="{}"><button type="submit">Resend</button>'
                "</form>",
                reverse("admin:core_outboxmessage_resend", args=[message.pk]),
                token,
            )

        return [*self.list_display, resend]

    def get_urls(self):
        resend_view = self.admin_site.admin_view(require_POST(self.resend_view))
        return [
            path("<int:pk>/resend/", resend_view, name="core_outboxmessage_resend"),
            *super().get_urls(),
        ]

    def resend_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        if not self.has_resend_permission(request):
            raise PermissionDenied
        message = get_object_or_404(OutboxMessage, pk=pk)
        count = outbox.resend([message.pk])
        self.message_user(
            request,
            f"{message.task} queued again." if count else "That row is not a dead letter.",
            messages.SUCCESS if count else messages.WARNING,
        )
        return HttpResponseRedirect(reverse("admin:core_outboxmessage_changelist"))

    @admin.action(description="Resend the selected dead letters", permissions=["resend"])
    def resend_selected(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = outbox.resend(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} dead letter(s) queued again.")
