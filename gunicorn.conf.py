"""gunicorn configuration, sized from the environment (the same file locally and in pods)."""

import multiprocessing
import os
import time


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Architecture: 5 workers a pod. Locally, one per core is plenty.
workers = _int("GUNICORN_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 5))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 2)
timeout = _int("GUNICORN_TIMEOUT", 30)
# Kubernetes' terminationGracePeriodSeconds must be longer than this.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = _int("GUNICORN_KEEPALIVE", 65)  # longer than the ALB's 60 s idle timeout
# Workers are not recycled: a recycling worker closes its idle keep-alive connections, and a
# request the ALB sends on one at that moment gets a 502 (the ALB retries nothing). The load
# test measured this: 2 failed POSTs and a 1 s p99 in 11,000 requests with recycling every
# 2,000, none and 51 ms without; worker memory stays flat (docs/BENCHMARKS.md). Set it only
# to contain a leak, and expect those rare 502s.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)
# Balanced workers. A gthread worker's main thread accepts every connection waiting on the
# shared socket, however busy its threads are; when a burst of new keep-alive connections
# arrives (wrk's start, an ALB scaling its nodes) the worker that wakes first takes them all
# and keeps them, and the other workers idle: one run in three of /health served at a third
# of its rate (bench/worker_balance.py). Closing a connection after this many requests
# ("Connection: close" on the last response, so no client reuses it) sends its next request
# through accept() again, where an idle worker's main thread wins: the load rebalances
# within a second. 0 keeps every connection until the keep-alive timeout.
keepalive_requests = _int("GUNICORN_KEEPALIVE_REQUESTS", 100)
# The same by age: a count alone never recycles a connection that carries few requests a
# second, and on a busy machine (about 20 /health a second per connection) one worker kept
# every connection of 7 in 10 three-second runs (docs/BENCHMARKS.md, issue 25). A connection
# older than this many seconds is closed after its current request; 0 = by count only.
keepalive_max_seconds = float(os.environ.get("GUNICORN_KEEPALIVE_MAX_SECONDS", "1"))
# When each open connection's first request came, by the client's address and port (one
# connection); cleared when it grows, which lets a few connections live longer at worst.
_connection_started: dict[tuple, float] = {}


def pre_request(worker, req):
    if keepalive_requests and req.req_number >= keepalive_requests:
        req.must_close = True
    if keepalive_max_seconds:
        now = time.monotonic()
        if req.req_number == 1:
            if len(_connection_started) > 4096:
                _connection_started.clear()
            _connection_started[req.peer_addr] = now
        elif now - _connection_started.get(req.peer_addr, now) >= keepalive_max_seconds:
            req.must_close = True
    if req.must_close:
        _connection_started.pop(req.peer_addr, None)


# Heartbeat files: /dev/shm (memory) where it exists, so a read-only root filesystem works.
SHARED_MEMORY = "/dev/shm"  # noqa: S108 - gunicorn's own recommendation for heartbeats
worker_tmp_dir = os.environ.get(
    "GUNICORN_WORKER_TMP_DIR", SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
)
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
proxy_allow_ips = forwarded_allow_ips

# Logs: JSON lines on stdout when deployed (the same shape as Django's, see core/logging.py),
# so Datadog parses gunicorn's own lines too; the access line names the request id. The
# logger class writes check-in, calendar, reminder and reset tokens as [token].
logger_class = "core.logging.RedactingGunicornLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'
_deployed = os.environ.get("DJANGO_ENV") in {"staging", "production"}
if os.environ.get("LOG_FORMAT", "json" if _deployed else "plain") == "json":
    _json_handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "stream": "ext://sys.stdout",
    }
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "core.logging.JsonFormatter",
                "format": "%(levelname)s %(name)s %(message)s",
            }
        },
        "handlers": {"console": _json_handler, "error_console": _json_handler},
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }
