"""Request types for type checking: `request.user` after login, `request.auth` in the API."""

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from .models import User


class AuthenticatedRequest(HttpRequest):
    """A request behind `login_required`: `user` is a `users.User`, never anonymous."""

    user: "User"


class ApiRequest(HttpRequest):
    """A django-ninja request behind `django_auth`: `auth` is the logged-in `users.User`."""

    auth: "User"
