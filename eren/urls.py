from django.contrib import admin
from django.urls import include, path

from . import health

urlpatterns = [
    path("health", health.liveness, name="health"),
    path("health/ready", health.readiness, name="health-ready"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("events.urls")),
]
