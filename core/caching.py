"""HTTP caching: public for anonymous list and detail pages, private for everything else.

Anonymous visitors to the event list, search and detail pages get `Cache-Control: public,
max-age=300` with `Vary: Cookie` (so a browser or CDN never serves them to someone logged
in), and the rendered page is kept in Redis for the same 5 minutes, keyed by the full URL
(the hot pages also in each worker's memory, until the same moment).
Everything else (logged-in pages, forms with a CSRF token, pages showing a flash message,
the API) is `private, no-store` unless the view said otherwise.

Trade-off, chosen on purpose: a registration or an edit shows at once to the student or
organizer who made it (their pages are never cached) and within 5 minutes to anonymous
visitors. Browsers and the CDN keep the page for those 5 minutes anyway, so deleting the
Redis copy on every write would not make anonymous pages fresher.
"""

import hashlib
import threading
import time
from collections import OrderedDict
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


class _ProcessPages:
    """The most recent pages in this worker's memory, in front of Redis.

    Each copy keeps the expiry time of the Redis entry it came from, so a page is never
    served longer than ANONYMOUS_PAGE_CACHE_SECONDS after it was rendered; holding the hot
    pages here saves the Redis round trip, which is most of a cached request's cost.
    """

    def __init__(self, max_pages: int) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[str, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if entry[0] <= time.time():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return entry

    def set(self, key: str, entry: tuple) -> None:
        with self._lock:
            self._pages[key] = entry
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


process_pages = _ProcessPages(max_pages=200)


def _cached_page(key: str) -> tuple | None:
    # Namespaced like the Redis key (CACHE_KEY_PREFIX), so the two never disagree.
    local_key = cache.make_key(key)
    entry = process_pages.get(local_key)
    if entry is None:
        entry = cache.get(key)
        if entry is not None:
            process_pages.set(local_key, entry)
    return entry


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
        cached = _cached_page(key) if seconds else None
        if cached is not None:
            _expires_at, content, content_type = cached
            return _public(HttpResponse(content, content_type=content_type))
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if response.status_code != 200 or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            return _private(response)
        if seconds:
            entry = (time.time() + seconds, response.content, response["Content-Type"])
            cache.set(key, entry, seconds)
            process_pages.set(cache.make_key(key), entry)
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
