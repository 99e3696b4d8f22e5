"""Health endpoints and the JSON API, with each app's router named by its import path."""

from django.urls import path

from . import health
from .api import api

api.add_router("/", "events.api.router")
api.add_router("/me", "users.api.router")
api.add_router("/me", "events.api.me_router")
api.add_router("/me", "events.saved_search_api.router")
api.add_router("/", "escore.api.router")
api.add_router("/", "orgs.api.router")

urlpatterns = [
    path("health", health.liveness, name="health"),
    path("health/ready", health.readiness, name="health-ready"),
    path("api/v1/", api.urls),
]
