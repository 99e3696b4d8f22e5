"""Liveness and readiness endpoints for Kubernetes and the ALB."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django_redis import get_redis_connection


@never_cache
def liveness(request: HttpRequest) -> JsonResponse:
    """The process answers. No I/O: a database blip must not restart healthy pods."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    get_redis_connection("default").ping()


CHECKS = {"database": _check_database, "redis": _check_redis}


@never_cache
def readiness(request: HttpRequest) -> JsonResponse:
    """Ready to serve: PostgreSQL and Redis answer. 503 names what failed."""
    failing = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            failing[name] = f"{type(exc).__name__}: {exc}".strip()[:300]
    if failing:
        return JsonResponse({"status": "unavailable", "failing": failing}, status=503)
    return JsonResponse({"status": "ok", "checks": sorted(CHECKS)})
