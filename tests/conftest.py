import uuid

import pytest
from django_redis import get_redis_connection


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test gets its own Redis key prefix, and its keys are deleted afterwards."""
    prefix = f"eren-test-{uuid.uuid4().hex[:12]}"
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = prefix
    settings.CACHES = caches
    yield prefix
    try:
        client = get_redis_connection("default")
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    except Exception:  # noqa: S110 - a test that stopped Redis cleans nothing
        pass
