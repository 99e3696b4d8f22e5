"""Settings for the Celery worker processes that tests/escore/test_worker.py starts and kills.

The test settings, pointed at the test run's database and the test's own cache prefix, with
a visibility timeout of seconds instead of an hour, so a task whose worker died is handed
to the next worker while the test waits.
"""

import os

from eren.settings.test import *  # noqa: F403
from eren.settings.test import CACHES, DATABASES

DATABASES["default"]["NAME"] = os.environ["ESCORE_TEST_DATABASE"]
CACHES["default"]["KEY_PREFIX"] = os.environ["ESCORE_TEST_CACHE_PREFIX"]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
