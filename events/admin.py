from django.contrib import admin

from . import services
from .models import EmailDelivery, EventCategory, EventPost, EventRegistration, OrganizerMessage


@admin.register(EventCategory)
class EventCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


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


@admin.register(EventPost)
class EventPostAdmin(admin.ModelAdmin):
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
    autocomplete_fields = ["organizer", "category"]
    readonly_fields = [
        "seats_taken",
        "waitlist_count",
        "created_at",
        "updated_at",
        "cancelled_at",
        "cancelled_by",
    ]
    inlines = [EventRegistrationInline]
    actions = ["unpublish"]

    @admin.action(description="Unpublish (back to draft, hidden from students)")
    def unpublish(self, request, queryset):
        done = 0
        for event_id in queryset.filter(status=EventPost.Status.PUBLISHED).values_list(
            "pk", flat=True
        ):
            services.event_unpublish(event_id=event_id, by=request.user)
            done += 1
        self.message_user(request, f"{done} event(s) unpublished.")

    fieldsets = [
        (None, {"fields": ["title", "description", "category", "organizer", "status"]}),
        ("When", {"fields": ["starts_at", "ends_at"]}),
        (
            "Where",
            {"fields": ["location_name", "address", "latitude", "longitude", "geocode_status"]},
        ),
        ("Seats", {"fields": ["capacity", "seats_taken", "waitlist_count"]}),
        ("Cancellation", {"fields": ["cancellation_reason", "cancelled_at", "cancelled_by"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]


@admin.register(EventRegistration)
class EventRegistrationAdmin(admin.ModelAdmin):
    list_display = ["event", "user", "status", "registered_at", "checked_in_at"]
    list_filter = ["status", ("registered_at", admin.DateFieldListFilter)]
    search_fields = ["event__title", "user__email", "user__display_name"]
    list_select_related = ["event", "user"]
    raw_id_fields = ["event", "user"]
    readonly_fields = ["status", "registered_at", "cancelled_at", "created_at", "updated_at"]


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
