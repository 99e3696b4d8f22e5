from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from . import permissions, services
from .models import (
    EmailDelivery,
    EventCategory,
    EventPost,
    EventRegistration,
    OrganizerMessage,
    SearchSynonym,
)


@admin.register(EventCategory)
class EventCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(SearchSynonym)
class SearchSynonymAdmin(admin.ModelAdmin):
    """Campus abbreviations search understands; a save reaches every search within 30 s."""

    list_display = ["term", "expansion"]
    search_fields = ["term", "expansion"]


class EventRegistrationInline(admin.TabularInline):
    model = EventRegistration
    extra = 0
    fields = ("user", "status", "registered_at", "cancelled_at", "checked_in_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        # Seats are taken through events.services so the counters and waitlist stay right.
        return False


class EventPostAdminForm(forms.ModelForm):
    def clean_organizer(self):
        organizer = self.cleaned_data["organizer"]
        if not permissions.user_can_create_events(organizer):
            raise forms.ValidationError("Choose an active organizer (or staff member).")
        return organizer


@admin.register(EventPost)
class EventPostAdmin(admin.ModelAdmin):
    """Events as staff see them. Editing, publishing and cancelling happen on the organizer
    pages (staff may manage any event), through events.services like every other write:
    a full-row save here would write back seat counters read before a concurrent
    registration changed them, and oversell. Only the organizer can be changed here, by
    `event_organizer_change`; there is no adding and no deleting (events are records)."""

    form = EventPostAdminForm
    list_display = [
        "title",
        "category",
        "starts_at",
        "location_name",
        "status",
        "capacity",
        "seats_taken",
        "waitlist_count",
        "organizer",
        "cancellation_reason",
    ]
    list_filter = ["status", "category", "geocode_status", ("starts_at", admin.DateFieldListFilter)]
    search_fields = ["title", "location_name", "organizer__email", "organizer__display_name"]
    date_hierarchy = "starts_at"
    list_select_related = ["category", "organizer"]
    autocomplete_fields = ["organizer"]
    inlines = [EventRegistrationInline]
    actions = ["unpublish"]
    fieldsets = [
        (None, {"fields": ["title", "description", "category", "organizer", "status", "manage"]}),
        ("When", {"fields": ["starts_at", "ends_at"]}),
        (
            "Where",
            {"fields": ["location_name", "address", "latitude", "longitude", "geocode_status"]},
        ),
        ("Seats", {"fields": ["capacity", "seats_taken", "waitlist_count"]}),
        ("Cancellation", {"fields": ["cancellation_reason", "cancelled_at", "cancelled_by"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    # Every field of the fieldsets but the organizer.
    readonly_fields = [
        *("title", "description", "category", "status", "manage", "starts_at", "ends_at"),
        *("location_name", "address", "latitude", "longitude", "geocode_status"),
        *("capacity", "seats_taken", "waitlist_count"),
        *("cancellation_reason", "cancelled_at", "cancelled_by", "created_at", "updated_at"),
    ]

    @admin.display(description="Edit, publish or cancel")
    def manage(self, event: EventPost) -> str:
        url = reverse("events:manage", kwargs={"pk": event.pk})
        return format_html('<a href="{}">On the organizer page</a>', url)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change and "organizer" in form.changed_data:
            services.event_organizer_change(
                event_id=obj.pk, by=request.user, organizer=form.cleaned_data["organizer"]
            )

    @admin.action(description="Unpublish (back to draft, hidden from students)")
    def unpublish(self, request, queryset):
        done = 0
        for event_id in queryset.filter(status=EventPost.Status.PUBLISHED).values_list(
            "pk", flat=True
        ):
            services.event_unpublish(event_id=event_id, by=request.user)
            done += 1
        self.message_user(request, f"{done} event(s) unpublished.")


@admin.register(EventRegistration)
class EventRegistrationAdmin(admin.ModelAdmin):
    """Read-only: seats are taken and given back through events.services (register, cancel,
    waitlist promotion), which keep the counters and the waitlist right. Staff check students
    in (or undo it) with the actions, which are the check-in service."""

    list_display = ["event", "user", "status", "registered_at", "checked_in_at"]
    list_filter = ["status", ("registered_at", admin.DateFieldListFilter)]
    search_fields = ["event__title", "user__email", "user__display_name"]
    list_select_related = ["event", "user"]
    actions = ["check_in", "check_in_undo"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewing only (and the actions, which need change permission on the list).
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _each(self, request, queryset, service, done: str) -> None:
        changed = 0
        for registration_id in queryset.values_list("pk", flat=True):
            try:
                changed += service(registration_id=registration_id, by=request.user).changed
            except services.RegistrationError as error:
                self.message_user(request, error.message, level=messages.ERROR)
        self.message_user(request, f"{changed} registration(s) {done}.")

    @admin.action(description="Check in (within the check-in window)")
    def check_in(self, request, queryset):
        self._each(request, queryset, services.registration_check_in, "checked in")

    @admin.action(description="Undo the check-in")
    def check_in_undo(self, request, queryset):
        self._each(request, queryset, services.registration_check_in_undo, "no longer checked in")


@admin.register(OrganizerMessage)
class OrganizerMessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "event", "sent_by", "recipient_count", "created_at", "sent_at"]
    search_fields = ["subject", "event__title", "sent_by__email"]
    list_select_related = ["event", "sent_by"]
    readonly_fields = [
        "event",
        "sent_by",
        "subject",
        "body",
        "recipient_count",
        "created_at",
        "sent_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    """Which e-mails went out, to answer "I never got it"; written by events.emails only."""

    list_display = ["sent_at", "kind", "recipient", "key"]
    list_filter = ["kind", ("sent_at", admin.DateFieldListFilter)]
    search_fields = ["recipient", "key"]
    readonly_fields = ["key", "kind", "user", "registration", "recipient", "sent_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
