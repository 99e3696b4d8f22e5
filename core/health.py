"""Liveness and readiness endpoints for Kubernetes and the ALB.

Both answer only `{"status": "ok"}` or `{"status": "unavailable"}`: they are reachable from
the internet through the ALB, so what failed, and why, goes to the log, never to the body.
"""

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


@never_cache
def liveness(request: HttpRequest) -> JsonResponse:
    """The process answers. No I/O: a database blip must not restart healthy pods."""
    return JsonResponse({"status": "ok"})


@never_cache
def readiness(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database answers (through the pod's PgBouncer in production).

    Redis is not checked: without it pages render from the database and rate limits fail
    open, so a Redis outage must not take every pod out of the load balancer.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.exception("Readiness check failed: the database does not answer")
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
