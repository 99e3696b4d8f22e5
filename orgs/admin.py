"""Staff create, approve and import organizations here; officers run them on the site."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from . import services
from .models import Membership, Officer, OfficerInvitation, OrgActivity, Organization


class OfficerFormSet(BaseInlineFormSet):
    """The admin keeps the president rule too: at least one president stays."""

    def clean(self):
        super().clean()
        presidents = sum(
            1
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("role") == Officer.Role.PRESIDENT
        )
        if presidents == 0:
            raise forms.ValidationError("An organization needs at least one president.")


class OfficerInline(admin.TabularInline):
    model = Officer
    formset = OfficerFormSet
    extra = 1
    autocomplete_fields = ["user"]
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV with a header: name, president_email, and any of "
        + ", ".join(services.IMPORT_COLUMNS)
        + ". All rows are imported, or none."
    )
    approve = forms.BooleanField(required=False, initial=True, label="Approve them at once")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "category", "status", "join_policy", "created_at"]
    list_filter = ["status", "join_policy", "category"]
    search_fields = ["name", "slug", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OfficerInline]
    actions = ["approve"]
    readonly_fields = ["approved_at", "created_at"]

    @admin.action(description="Approve the selected organizations")
    def approve(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        count = queryset.filter(status=Organization.Status.PENDING).update(
            status=Organization.Status.APPROVED, approved_at=timezone.now()
        )
        self.message_user(request, f"Approved {count} organizations.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        if obj.status == Organization.Status.APPROVED and obj.approved_at is None:
            obj.approved_at = timezone.now()
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="orgs_organization_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            text = form.cleaned_data["file"].read().decode("utf-8-sig", errors="replace")
            result = services.organizations_import_csv(
                text=text, approve=form.cleaned_data["approve"]
            )
            if result.errors:
                for error in result.errors[:50]:
                    messages.error(request, error)
            else:
                messages.success(request, f"Imported {len(result.created)} organizations.")
                return redirect(reverse("admin:orgs_organization_changelist"))
        context = {**self.admin_site.each_context(request), "form": form, "title": "Import"}
        return render(request, "admin/orgs/import.html", context)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["organization", "user", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["organization__name", "user__email"]
    autocomplete_fields = ["organization", "user"]


@admin.register(OfficerInvitation)
class OfficerInvitationAdmin(admin.ModelAdmin):
    list_display = ["organization", "email", "role", "created_at", "emailed_at", "accepted_at"]
    search_fields = ["organization__name", "email"]
    readonly_fields = ["token", "emailed_at", "accepted_at", "created_at"]


@admin.register(OrgActivity)
class OrgActivityAdmin(admin.ModelAdmin):
    """The audit trail: read-only."""

    list_display = ["created_at", "organization", "actor", "action", "event", "subject", "detail"]
    list_filter = ["action"]
    search_fields = ["organization__name", "actor__email"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
