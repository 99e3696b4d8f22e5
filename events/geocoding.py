"""Geocoding: an event's location text → latitude/longitude.

With `GOOGLE_MAPS_API_KEY` set, the Google Geocoding API is asked over HTTP and its answers
are cached by normalised address in `GeocodeCache` (the free tier is 10k requests a month).
Without a key, the campus gazetteer (`events.places`) resolves building names.

`event_geocode` is the one entry point; `events.services.event_geocode_enqueue` runs it on
the queue once the caller's transaction commits. Retryable failures raise
`GeocodingRetryableError`, which the Celery task retries with back-off.
"""

import datetime as dt
import http.client
import json
import logging
import re
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from core import metrics

from .models import EventPost, GeocodeCache
from .places import CAMPUS_PLACES, Place, place_find

logger = logging.getLogger(__name__)

# Biases (does not restrict) Google's answers towards St. Louis: "south-west|north-east".
ST_LOUIS_BOUNDS = "38.50,-90.50|38.80,-90.15"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class GeocodingError(Exception):
    """Geocoding failed in a way another try will not fix (a bug or a bad configuration)."""


class GeocodingRetryableError(GeocodingError):
    """Google is slow, down or over its quota: try again later.

    Messages never contain the API key, since they end up in logs, Sentry and Celery results.
    """


@dataclass(frozen=True)
class GeocodeResult:
    status: str  # GeocodeCache.Status: found / not_found
    latitude: float | None = None
    longitude: float | None = None
    # False for answers about the request rather than the address (a denied key).
    cacheable: bool = True

    @property
    def found(self) -> bool:
        return self.status == GeocodeCache.Status.FOUND


NOT_FOUND = GeocodeResult(GeocodeCache.Status.NOT_FOUND)
DENIED = GeocodeResult(GeocodeCache.Status.NOT_FOUND, cacheable=False)


# --- Text -------------------------------------------------------------------------------


def address_normalise(text: str) -> str:
    """The cache key for a query: case, spacing and stray punctuation do not matter.

    "  Simon Hall,  1 Brookings Dr. " and "simon hall, 1 brookings dr" are one address.
    Commas stay (they separate an address's parts for Google); "&", "#", "-", "/" stay
    because they can change the meaning of an address.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[^\w\s,&#/-]", " ", text)
    parts = (" ".join(part.split()) for part in text.split(","))
    return ", ".join(part for part in parts if part)


def event_query(event: EventPost) -> str:
    """What is geocoded for an event: its location name and address, normalised."""
    return address_normalise(", ".join(p for p in (event.location_name, event.address) if p))


def _match_text(text: str) -> str:
    """Looser than `address_normalise`, for matching names: words only, "&" is "and"."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")
    text = re.sub(r"['\u2019]", "", text)
    return " ".join(re.sub(r"[^\w]", " ", text).split())


def _place_aliases() -> list[tuple[str, Place]]:
    """(alias, place), longest first: full names, then the parts of "Building, Room" names."""
    aliases: dict[str, Place] = {}
    for place in CAMPUS_PLACES.values():
        aliases.setdefault(_match_text(place.name), place)
    for place in CAMPUS_PLACES.values():
        for part in place.name.split(","):
            # A part shared by several places ("Danforth University Center") keeps the
            # first: their coordinates are tens of metres apart.
            aliases.setdefault(_match_text(part), place)
    return sorted(aliases.items(), key=lambda item: -len(item[0]))


def gazetteer_place_find(text: str) -> Place | None:
    """The campus place a free-text location names, or None.

    Exact keys and names first ("olin-library", "Simon Hall"), then the longest place name
    contained word for word in the text: "Room 110, Simon Hall" → Simon Hall,
    "Tisch Commons (DUC)" → Danforth University Center, Tisch Commons.
    """
    if not text.strip():
        return None
    if place := place_find(text):
        return place
    words = f" {_match_text(text)} "
    for alias, place in _place_aliases():
        if alias and f" {alias} " in words:
            return place
    return None


# --- Google -----------------------------------------------------------------------------


def _geocoding_url() -> str:
    """The endpoint, refusing to send the key anywhere but HTTPS or this machine."""
    url = settings.GOOGLE_GEOCODING_URL
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return url
    raise ImproperlyConfigured(
        "GOOGLE_GEOCODING_URL must be https:// (or http:// to localhost for tests)."
    )


def _in_range(latitude: float, longitude: float) -> bool:
    return -90 <= latitude <= 90 and -180 <= longitude <= 180


def google_response_parse(payload: dict) -> GeocodeResult:
    """Google's JSON answer → a result, or `GeocodingRetryableError` when worth retrying."""
    status = payload.get("status")
    if status == "OK":
        try:
            location = payload["results"][0]["geometry"]["location"]
            latitude, longitude = float(location["lat"]), float(location["lng"])
        except (KeyError, IndexError, TypeError, ValueError):
            logger.error("Google geocoding answered OK without a usable location")
            return DENIED
        if not _in_range(latitude, longitude):
            logger.error("Google geocoding answered coordinates out of range")
            return DENIED
        return GeocodeResult(GeocodeCache.Status.FOUND, latitude, longitude)
    if status == "ZERO_RESULTS":
        return NOT_FOUND
    if status in {"OVER_QUERY_LIMIT", "UNKNOWN_ERROR"}:
        raise GeocodingRetryableError(f"Google geocoding answered {status}")
    # REQUEST_DENIED means the key is wrong, disabled or not allowed to use the API: every
    # event will be "not found" until someone fixes it, so say it loudly.
    level = logging.CRITICAL if status == "REQUEST_DENIED" else logging.ERROR
    logger.log(
        level,
        "Google geocoding answered %s: %s",
        status,
        str(payload.get("error_message", ""))[:300],
    )
    return DENIED


def _google_request(query: str) -> urllib.request.Request:
    """The request for `query`. Its repr does not show the URL, which carries the key."""
    params = urllib.parse.urlencode(
        {
            "address": query,
            "region": "us",
            "bounds": ST_LOUIS_BOUNDS,
            "key": settings.GOOGLE_MAPS_API_KEY,
        }
    )
    return urllib.request.Request(  # noqa: S310 - scheme checked by _geocoding_url
        f"{_geocoding_url()}?{params}", headers={"Accept": "application/json"}
    )


def _google_fetch(request: urllib.request.Request, timeout: float) -> tuple[int, bytes]:
    """(HTTP status, body); raises `GeocodingRetryableError` when nothing usable came back.

    Exceptions from urllib carry the URL (and so the key) in their attributes, and Sentry
    records chained exceptions and frame locals: the retryable error is raised outside the
    `except` blocks, so it has no context, and no local here holds the URL as a string.
    """
    problem = None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - https URL from settings # nosec B310
            return response.status, response.read()
    except urllib.error.HTTPError as http_error:
        http_status, body = http_error.code, http_error.read()
        http_error.close()
        if http_status < 500 and http_status != 429:
            return http_status, body
        problem = f"answered HTTP {http_status}"
    except (OSError, http.client.HTTPException) as error:
        # URLError wraps refused connections and connect timeouts; a slow answer is a
        # TimeoutError from read(); a dropped one an OSError or an HTTPException.
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            problem = f"timed out after {timeout}s"
        else:
            problem = f"unreachable ({type(reason).__name__})"
    raise GeocodingRetryableError(f"Google geocoding {problem}")


def google_geocode(query: str) -> GeocodeResult:
    """Ask Google where `query` is; failures are counted (`eren.geocoding.failures`)."""
    try:
        result = _google_geocode(query)
    except GeocodingRetryableError:
        metrics.increment("geocoding.failures", tags={"kind": "retryable"})
        raise
    if result is DENIED:
        metrics.increment("geocoding.failures", tags={"kind": "denied"})
    return result


def _google_geocode(query: str) -> GeocodeResult:
    """Ask Google where `query` is. Raises `GeocodingRetryableError` on transient failures.

    The key travels in the query string (Google's API has no other way for server keys),
    so the URL is never logged and no exception raised here carries it.
    """
    http_status, body = _google_fetch(
        _google_request(query), timeout=settings.GOOGLE_GEOCODING_TIMEOUT
    )
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        return google_response_parse(payload)
    if http_status == 200:
        # A proxy or captive portal rather than Google: worth another try.
        raise GeocodingRetryableError("Google geocoding answered something that is not JSON")
    logger.error("Google geocoding answered HTTP %s without JSON", http_status)
    return DENIED


def geocode_cached(query: str) -> GeocodeResult:
    """Google's answer for a normalised query, from the cache when it was asked before.

    Found and ZERO_RESULTS answers are cached; a denied request is not (fixing the key
    should fix the next try), and neither is a transient failure.
    """
    cached = GeocodeCache.objects.filter(address=query).first()
    if cached is not None:
        return GeocodeResult(cached.status, cached.latitude, cached.longitude)
    result = google_geocode(query)
    if not result.cacheable:
        return result
    GeocodeCache.objects.update_or_create(
        address=query,
        defaults={
            "status": result.status,
            "latitude": result.latitude,
            "longitude": result.longitude,
        },
    )
    return result


def gazetteer_geocode(event: EventPost) -> GeocodeResult:
    """The campus place the event's location name (or else its address) names."""
    for text in (event.location_name, event.address):
        if place := gazetteer_place_find(text):
            return GeocodeResult(GeocodeCache.Status.FOUND, place.latitude, place.longitude)
    return NOT_FOUND


# --- Events -----------------------------------------------------------------------------


def _already_placed(event: EventPost, query: str) -> bool:
    """Found before for the same text: the coordinates still answer this query."""
    if event.geocode_status != EventPost.GeocodeStatus.FOUND or event.latitude is None:
        return False
    if settings.GOOGLE_MAPS_API_KEY:
        cached = GeocodeCache.objects.filter(address=query, status="found").first()
        expected = (cached.latitude, cached.longitude) if cached else None
    else:
        result = gazetteer_geocode(event)
        expected = (result.latitude, result.longitude) if result.found else None
    return expected == (event.latitude, event.longitude)


def event_geocode(*, event_id: int) -> str | None:
    """Place an event on the map; returns its geocode status (None if it no longer exists).

    Idempotent: an event placed by hand (manual) is never touched, and one already found
    for the same location text costs no request. No transaction is held across the HTTP
    call; the result is written only if the location text has not changed meanwhile and
    the organizer has not placed the event by hand, so a slow answer never overwrites a
    newer edit (that edit enqueues its own geocoding).

    Raises `GeocodingRetryableError` when Google is slow, down or over its quota.
    """
    event = EventPost.objects.filter(pk=event_id).first()
    if event is None:
        logger.info("Geocoding skipped: event %s no longer exists", event_id)
        return None
    if event.geocode_status == EventPost.GeocodeStatus.MANUAL:
        return event.geocode_status
    query = event_query(event)
    if _already_placed(event, query):
        return event.geocode_status
    if not query:
        result = NOT_FOUND
    elif settings.GOOGLE_MAPS_API_KEY:
        result = geocode_cached(query)
    else:
        result = gazetteer_geocode(event)
    status = EventPost.GeocodeStatus.FOUND if result.found else EventPost.GeocodeStatus.NOT_FOUND
    updated = (
        EventPost.objects.filter(
            pk=event.pk, location_name=event.location_name, address=event.address
        )
        .exclude(geocode_status=EventPost.GeocodeStatus.MANUAL)
        .update(
            geocode_status=status,
            latitude=result.latitude,
            longitude=result.longitude,
            updated_at=timezone.now(),
        )
    )
    if not updated:
        logger.info(
            "Geocoding of event %s dropped: its location was edited or placed by hand meanwhile",
            event_id,
        )
        return (
            EventPost.objects.filter(pk=event_id).values_list("geocode_status", flat=True).first()
        )
    logger.info("Geocoded event %s: %s", event_id, status)
    return status


def geocode_cache_prune(*, older_than_days: int) -> int:
    """Delete cached Google answers older than `older_than_days`; returns how many."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    deleted, _ = GeocodeCache.objects.filter(updated_at__lt=cutoff).delete()
    logger.info("Geocode cache: %s entries older than %s days deleted", deleted, older_than_days)
    return deleted
