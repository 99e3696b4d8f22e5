"""Business metrics through DogStatsD: registrations, check-ins, searches, e-mails, geocoding.

The one module that talks to the Datadog agent. It is a no-op unless `DD_DOGSTATSD_URL` or
`DD_AGENT_HOST` names an agent, and it never raises: a metric is never worth a failed
request. Names are prefixed `eren.`; the client adds the unified service tags
(`DD_ENV`, `DD_SERVICE`, `DD_VERSION`) to every metric.
"""

import logging
import os
import threading
from urllib.parse import urlparse

from django.db import transaction

logger = logging.getLogger(__name__)

NAMESPACE = "eren"
DEFAULT_PORT = 8125

_lock = threading.Lock()
_client = None
_configured_for: tuple | None = None


def _agent_address() -> tuple[str, int] | tuple[None, None]:
    url = os.environ.get("DD_DOGSTATSD_URL", "").strip()
    if url:
        parsed = urlparse(url if "://" in url else f"udp://{url}")
        if parsed.scheme == "udp" and parsed.hostname:
            return parsed.hostname, parsed.port or DEFAULT_PORT
        return None, None
    host = os.environ.get("DD_AGENT_HOST", "").strip()
    if not host:
        return None, None
    return host, int(os.environ.get("DD_DOGSTATSD_PORT", DEFAULT_PORT))


def _get_client():
    """The DogStatsD client for the current configuration, or None (made once per process)."""
    global _client, _configured_for
    address = _agent_address()
    if address == (None, None):
        return None
    with _lock:
        if _configured_for != (os.getpid(), *address):
            from datadog.dogstatsd import DogStatsd

            host, port = address
            # Unbuffered: one datagram per metric, sent at once; no flush thread to fork.
            _client = DogStatsd(
                host=host,
                port=port,
                namespace=NAMESPACE,
                disable_buffering=True,
                disable_telemetry=True,
            )
            _configured_for = (os.getpid(), *address)
        return _client


def _send(kind: str, name: str, value: float, tags: dict[str, str] | None) -> None:
    try:
        client = _get_client()
        if client is None:
            return
        send = getattr(client, kind)
        send(name, value, tags=[f"{key}:{tag}" for key, tag in (tags or {}).items()])
    except Exception:
        logger.debug("DogStatsD metric %s not sent", name, exc_info=True)


def increment(name: str, value: int = 1, tags: dict[str, str] | None = None) -> None:
    """Count `value` for `eren.<name>`. Never raises."""
    _send("increment", name, value, tags)


def gauge(name: str, value: float, tags: dict[str, str] | None = None) -> None:
    """Report the current value of `eren.<name>`. Never raises."""
    _send("gauge", name, value, tags)


def increment_on_commit(name: str, value: int = 1, tags: dict[str, str] | None = None) -> None:
    """Count it once the current transaction commits (now, outside a transaction)."""
    transaction.on_commit(lambda: increment(name, value, tags), robust=True)
