import uuid

import pytest
from celery import _state as celery_state
from django_redis import get_redis_connection

from eren.celery import app as celery_app


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test gets its own Redis key prefix, and its keys are deleted afterwards."""
    prefix = f"eren-test-{uuid.uuid4().hex[:12]}"
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = prefix
    caches["ratelimit"]["KEY_PREFIX"] = f"{prefix}-rl"
    settings.CACHES = caches
    yield prefix
    try:
        client = get_redis_connection("default")
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except Exception:  # noqa: S110 - a test that stopped Redis cleans nothing
        pass


@pytest.fixture
def celery_eager():
    """Run `.delay()` in-process, so on_commit callbacks send real mail to the locmem outbox.

    Celery checks `task_always_eager` on every `apply_async`, so flipping it on the app for
    one test (and back) is enough; no test can reach the real broker by accident.
    """
    conf = celery_app.conf
    previous = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = previous
    # Eager apply_async saves and restores a process-global "inside a task" flag without a
    # lock; threads racing through it can leave it set, and then every later result.get()
    # in this process refuses to block.
    celery_state._set_task_join_will_block(False)
