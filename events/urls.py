from django.contrib.sitemaps.views import sitemap
from django.urls import path

from core.caching import anonymous_page_cache

from . import browse_views, organizer_views, saved_search_views, views
from .sitemaps import SITEMAPS

app_name = "events"

urlpatterns = [
    path("", anonymous_page_cache(views.EventListView.as_view()), name="list"),
    path("search/", anonymous_page_cache(views.SearchView.as_view()), name="search"),
    path(
        "search/map/", anonymous_page_cache(browse_views.SearchMapView.as_view()), name="search-map"
    ),
    path(
        "search/calendar/",
        anonymous_page_cache(browse_views.SearchCalendarView.as_view()),
        name="search-calendar",
    ),
    path("search/suggest", views.search_suggest, name="suggest"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("events/<int:pk>/", anonymous_page_cache(views.EventDetailView.as_view()), name="detail"),
    path("events/<int:pk>/register", views.registration_create, name="register"),
    path("events/<int:pk>/cancel", views.registration_cancel, name="cancel"),
    path("events/<int:pk>/calendar.ics", views.event_calendar, name="calendar"),
    path(
        "events/<int:pk>/not-interested",
        views.recommendation_dismiss,
        name="not-interested",
    ),
    path(
        "events/<int:pk>/not-interested/undo",
        views.recommendation_undismiss,
        name="not-interested-undo",
    ),
    path("me/events/", views.MyEventsView.as_view(), name="mine"),
    path("me/events/calendar/", browse_views.MyEventsCalendarView.as_view(), name="mine-calendar"),
    path("me/calendar/reset", views.calendar_feed_reset, name="calendar-reset"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("me/searches/", saved_search_views.saved_search_list, name="saved-searches"),
    path("me/searches/save", saved_search_views.saved_search_create, name="saved-search-create"),
    path(
        "me/searches/<int:pk>/feed",
        saved_search_views.saved_search_feed_rotate,
        name="saved-search-feed-rotate",
    ),
    path(
        "me/searches/<int:pk>/feed/revoke",
        saved_search_views.saved_search_feed_revoke,
        name="saved-search-feed-revoke",
    ),
    path(
        "me/searches/<int:pk>/email",
        saved_search_views.saved_search_email,
        name="saved-search-email",
    ),
    path(
        "me/searches/<int:pk>/delete",
        saved_search_views.saved_search_delete,
        name="saved-search-delete",
    ),
    path(
        "calendar/searches/<str:token>.ics",
        saved_search_views.saved_search_feed,
        name="saved-search-feed",
    ),
    path(
        "searches/email-off/<str:token>",
        saved_search_views.saved_search_email_off,
        name="saved-search-email-off",
    ),
    path("me/tickets/<int:pk>/", views.ticket, name="ticket"),
    path("check-in/", views.self_check_in, name="self-check-in"),
    path("check-in/<str:token>/", organizer_views.CheckInView.as_view(), name="check-in"),
    path("organize/", organizer_views.dashboard, name="organize"),
    path("organize/events/new", organizer_views.event_create, name="create"),
    path("organize/events/<int:pk>/", organizer_views.event_manage, name="manage"),
    path("organize/events/<int:pk>/edit", organizer_views.event_edit, name="edit"),
    path("organize/events/<int:pk>/duplicate", organizer_views.event_duplicate, name="duplicate"),
    path("organize/events/<int:pk>/publish", organizer_views.event_publish, name="publish"),
    path("organize/events/<int:pk>/place", organizer_views.event_place, name="place"),
    path("organize/events/<int:pk>/unpublish", organizer_views.event_unpublish, name="unpublish"),
    path("organize/events/<int:pk>/cancel", organizer_views.event_cancel, name="event-cancel"),
    path("organize/events/<int:pk>/questions", organizer_views.event_questions, name="questions"),
    path("organize/events/<int:pk>/image", organizer_views.event_image, name="image"),
    path(
        "organize/events/<int:pk>/image/remove",
        organizer_views.event_image_remove,
        name="image-remove",
    ),
    path(
        "organize/events/<int:pk>/questions/<int:question_pk>/delete",
        organizer_views.question_delete,
        name="question-delete",
    ),
    path("organize/events/<int:pk>/roster.csv", organizer_views.roster_export, name="roster-csv"),
    path("organize/events/<int:pk>/message", organizer_views.message_registrants, name="message"),
    path("organize/events/<int:pk>/door", organizer_views.door, name="door"),
    path("organize/events/<int:pk>/walk-in", organizer_views.walk_in, name="walk-in"),
    path(
        "organize/events/<int:pk>/check-in-settings",
        organizer_views.check_in_settings,
        name="check-in-settings",
    ),
    path("organize/events/<int:pk>/code", organizer_views.code_screen, name="code-screen"),
    path(
        "organize/registrations/<int:pk>/check-in",
        organizer_views.registration_check_in,
        name="manual-check-in",
    ),
    path(
        "organize/registrations/<int:pk>/check-in/undo",
        organizer_views.registration_check_in_undo,
        name="check-in-undo",
    ),
]
