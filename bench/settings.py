"""Production settings for a benchmark server on 127.0.0.1 (bench/server.py), nothing else.

DJANGO_ENV=production is kept, so DEBUG is off, static files are whitenoise's compressed
manifest and sessions, caching and templates are what production runs. Only what needs the
ALB in front is switched off: plain HTTP on loopback has no TLS, so no HTTPS redirect and
cookies without the Secure flag (load generators drop Secure cookies over http://).
"""

import os

os.environ.setdefault("DJANGO_ENV", "production")

from eren.settings.base import *  # noqa: F403
from eren.settings.base import env

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Tasks the benchmark enqueues (registration e-mails) wait on a queue of their own, so a
# Celery worker of `make run` on the same Redis never sends them.
CELERY_TASK_DEFAULT_QUEUE = env.str("BENCH_CELERY_QUEUE", default="eren-bench")
# Every simulated student comes from 127.0.0.1 (and the micro-benchmarks reuse one user),
# so the per-IP and per-user limits would measure the limiter, not the app.
RATELIMIT_ENABLE = False
ACCOUNT_RATE_LIMITS = False  # allauth's account limits too
