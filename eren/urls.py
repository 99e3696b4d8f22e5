from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from core import health
from escore.api import router as escore_router
from events.api import me_router
from events.api import router as events_router
from users.api import router as users_router

from .api import api

api.add_router("/", events_router)
api.add_router("/me", users_router)
api.add_router("/me", me_router)
api.add_router("/", escore_router)

handler500 = "eren.errors.server_error"

urlpatterns = [
    path("health", health.liveness, name="health"),
    path("health/ready", health.readiness, name="health-ready"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("allauth.urls")),
    path("me/account/", include("users.urls")),
    path("", include("escore.urls")),
    path("", include("events.urls")),
]
