from django.urls import path

from . import views

app_name = "users"

urlpatterns = [
    path("", views.account, name="account"),
    path("organizer-request", views.organizer_request, name="organizer-request"),
    path("verify-email", views.verify_email, name="verify-email"),
    path("data.json", views.data_export, name="data-export"),
    path("delete", views.account_delete, name="delete"),
    path("reminders-off/<str:token>", views.reminders_off, name="reminders-off"),
]
