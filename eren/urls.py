"""The site's URLs. Apps are named by import path only: configuration imports no app."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

handler500 = "core.errors.server_error"
# allauth answers its own per-IP limits through the URLconf's handler429.
handler429 = "core.ratelimits.allauth_too_many_requests"

# The admin has no login form of its own: staff sign in on the site, through allauth's limits
# and its second factor; the admin's login page sends them there.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns: list[URLPattern | URLResolver] = [
    # /health, /health/ready and /api/v1/ (core.urls wires the apps' API routers).
    path("", include("core.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    # Single sign-on routes with E-Ren's own checks, before allauth's at the same paths.
    path("accounts/", include("users.sso_urls")),
    path("accounts/", include("allauth.urls")),
    path("me/account/", include("users.urls")),
    path("", include("escore.urls")),
    path("", include("orgs.urls")),
    path("", include("events.urls")),
]
if settings.DEBUG and settings.MEDIA_URL.startswith("/"):
    # `make run`: uploads from the local disk (production serves them from S3).
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
