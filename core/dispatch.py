"""After-commit dispatch: every Celery task that a write queues goes through here.

`dispatch_on_commit(task, *args)` queues `task.delay(*args)` once the caller's transaction
commits, so a rolled-back write queues nothing. It is robust: once the write is committed, a
broker outage must neither turn the answer into an error nor skip the other after-commit
hooks. The failure is logged with the task and its arguments (and reaches Sentry), and the
reconciles on beat catch up what they can. Arguments are ids and short strings (JSON), so
this one function can become a transactional outbox without its callers changing.
"""

import logging
from typing import Protocol

from django.db import transaction

logger = logging.getLogger(__name__)


class Dispatchable(Protocol):
    """A Celery task: it has a name and `delay`."""

    name: str

    def delay(self, *args: int | str) -> object: ...


def dispatch_on_commit(task: Dispatchable, *args: int | str) -> None:
    """Queue `task.delay(*args)` after the current transaction commits (now, outside one)."""
    short_name = task.name.rsplit(".", 1)[-1]

    def enqueue() -> None:
        try:
            task.delay(*args)
        except Exception:
            logger.exception(
                "enqueue_%s: could not queue %s%r after commit", short_name, task.name, args
            )

    # Named after the task, so Django's and Sentry's reports say which hook it was.
    enqueue.__name__ = enqueue.__qualname__ = f"enqueue_{short_name}"
    transaction.on_commit(enqueue, robust=True)
