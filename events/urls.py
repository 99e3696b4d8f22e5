from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.EventListView.as_view(), name="list"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("search/suggest", views.search_suggest, name="suggest"),
    path("events/<int:pk>/", views.EventDetailView.as_view(), name="detail"),
    path("events/<int:pk>/register", views.registration_create, name="register"),
    path("events/<int:pk>/cancel", views.registration_cancel, name="cancel"),
    path("events/<int:pk>/calendar.ics", views.event_calendar, name="calendar"),
    path("me/events/", views.MyEventsView.as_view(), name="mine"),
    path("me/calendar/reset", views.calendar_feed_reset, name="calendar-reset"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
