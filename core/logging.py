"""JSON log lines for Datadog: one object a line on stdout; tokens kept out of every line.

With `DD_LOGS_INJECTION=true` under `ddtrace-run`, ddtrace puts `dd.trace_id`, `dd.span_id`
(and the unified service tags) on each record; this formatter writes them as top-level keys,
which Datadog's log pipeline uses to join a log line to its trace. `RedactTokensFilter`
(on the console handler) and `RedactingGunicornLogger` (gunicorn's access log) replace the
secrets in URLs with `[token]` (core.redaction). This module imports nothing from Django, so
gunicorn's master process can use it for its own logs.
"""

import logging

from gunicorn.glogging import Logger as GunicornLogger
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from .redaction import redact_tokens

DATADOG_KEYS = ("dd.trace_id", "dd.span_id", "dd.service", "dd.env", "dd.version")


class JsonFormatter(_JsonFormatter):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "status", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict, record, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        for key in DATADOG_KEYS:
            value = getattr(record, key, None)
            # ddtrace writes 0 and "" when no span is active: no correlation then.
            if value not in (None, "", 0, "0"):
                log_record[key] = value
            else:
                log_record.pop(key, None)
        log_record.setdefault("request_id", getattr(record, "request_id", "-"))


class RedactTokensFilter(logging.Filter):
    """Every log line without the tokens of URLs (Django logs "Not Found: <path>" and
    attaches the request, whose text is its path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            record.request = redact_tokens(repr(request))
        return True


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger, with the request line, path, query and Referer of each access log
    line redacted (settings: gunicorn.conf.py's logger_class)."""

    _URL_ATOMS = ("r", "U", "q", "f")

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in self._URL_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_tokens(atoms[name])
        return atoms
