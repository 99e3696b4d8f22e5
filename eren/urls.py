"""The site's URLs. Apps are named by import path only: configuration imports no app."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

handler500 = "core.errors.server_error"

urlpatterns = [
    # /health, /health/ready and /api/v1/ (core.urls wires the apps' API routers).
    path("", include("core.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("me/account/", include("users.urls")),
    path("", include("escore.urls")),
    path("", include("events.urls")),
]
