from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .forms import AdminUserCreationForm, UserChangeForm
from .models import User


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
