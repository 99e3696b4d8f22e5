"""Test settings: only speed knobs and isolation on top of base."""

import os
import tempfile

os.environ.setdefault("DJANGO_ENV", "test")

from .base import *  # noqa: F403
from .base import CACHES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEBUG = False
# A test run never shares keys with `make run` on the same Redis.
CACHES["default"]["KEY_PREFIX"] = "eren-test"
CACHES["ratelimit"]["KEY_PREFIX"] = "eren-test-rl"
# Uploads go to the local disk, in a folder of the test run's own.
STORAGES["default"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # noqa: F405
MEDIA_ROOT = tempfile.mkdtemp(prefix="eren-test-media-")
MEDIA_URL = "/media/"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Tasks a test enqueues never reach a `make run` worker on the same Redis.
CELERY_TASK_DEFAULT_QUEUE = "eren-test"
