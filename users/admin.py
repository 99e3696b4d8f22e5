from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from core.errors import UserError

from . import services
from .forms import AdminUserCreationForm, UserChangeForm
from .models import OrganizerRequest, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = AdminUserCreationForm
    form = UserChangeForm
    ordering = ["email"]
    list_display = ["email", "display_name", "is_organizer", "is_staff", "is_active", "date_joined"]
    list_filter = [
        "is_organizer",
        "is_staff",
        "is_superuser",
        "is_active",
        "leaderboard_visibility",
    ]
    search_fields = ["email", "display_name", "pseudonym"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("display_name", "leaderboard_visibility", "pseudonym")}),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_organizer",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ["last_login", "date_joined"]
    actions = ["close_accounts"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting the row would drop registrations without giving their seats back and leave
        # the ledger, the admin log and sessions behind: accounts are closed by the service.
        return False

    @admin.action(description="Close the accounts (as a student closing their own)")
    def close_accounts(self, request, queryset):
        closed = 0
        for user in queryset:
            try:
                services.user_delete(user=user)
            except UserError as error:
                self.message_user(request, f"{user}: {error.message}", level=messages.ERROR)
            else:
                closed += 1
        self.message_user(request, f"{closed} account(s) closed.")


@admin.register(OrganizerRequest)
class OrganizerRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "created_at", "decided_by", "decided_at", "reason"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__display_name", "reason"]
    list_select_related = ["user", "decided_by"]
    readonly_fields = ["user", "reason", "status", "decided_by", "decided_at", "created_at"]
    actions = ["approve", "reject"]

    def has_add_permission(self, request) -> bool:
        return False

    def _decide(self, request, queryset, *, approve: bool) -> None:
        pending = queryset.filter(status=OrganizerRequest.Status.PENDING)
        count = 0
        for request_id in pending.values_list("pk", flat=True):
            services.organizer_request_decide(
                request_id=request_id, by=request.user, approve=approve
            )
            count += 1
        verb = "approved; they can organize events now" if approve else "rejected"
        self.message_user(request, f"{count} request(s) {verb}.")

    @admin.action(description="Approve: grant the organizer role")
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject")
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)
