"""HTTP caching: public for anonymous list and detail pages, private for everything else.

Anonymous visitors to the event list, search and detail pages get `Cache-Control: public,
max-age=300` with `Vary: Cookie` (so a browser or CDN never serves them to someone logged
in), and the rendered page is kept in Redis for the same 5 minutes, keyed by the full URL.
Everything else (logged-in pages, forms with a CSRF token, pages showing a flash message,
the API) is `private, no-store` unless the view said otherwise.

Trade-off, chosen on purpose: a registration or an edit shows at once to the student or
organizer who made it (their pages are never cached) and within 5 minutes to anonymous
visitors. Browsers and the CDN keep the page for those 5 minutes anyway, so deleting the
Redis copy on every write would not make anonymous pages fresher.
"""

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

PRIVATE = {"private": True, "no_store": True}


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, **PRIVATE)
    return response


def _public(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=settings.ANONYMOUS_PAGE_CACHE_SECONDS)
    patch_vary_headers(response, ("Cookie",))
    return response


def page_cache_key(request: HttpRequest) -> str:
    url = request.build_absolute_uri()
    return "anon-page:" + hashlib.sha256(url.encode()).hexdigest()


def anonymous_page_cache(view: Callable) -> Callable:
    """Serve anonymous GETs of `view` from Redis for ANONYMOUS_PAGE_CACHE_SECONDS.

    Only a 200 page that used no CSRF token is stored; a visitor with a flash message
    waiting gets a fresh, private page. Redis down is a miss (IGNORE_EXCEPTIONS).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "GET" or request.user.is_authenticated:
            return _private(view(request, *args, **kwargs))
        if len(get_messages(request)):
            return _private(view(request, *args, **kwargs))
        seconds = settings.ANONYMOUS_PAGE_CACHE_SECONDS
        key = page_cache_key(request)
        cached = cache.get(key) if seconds else None
        if cached is not None:
            content, content_type = cached
            return _public(HttpResponse(content, content_type=content_type))
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if response.status_code != 200 or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            return _private(response)
        if seconds:
            cache.set(key, (response.content, response["Content-Type"]), seconds)
        return _public(response)

    return wrapper


class DefaultPrivateCacheMiddleware:
    """A response that says nothing about caching is `private, no-store`: safe by default."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            _private(response)
        return response
