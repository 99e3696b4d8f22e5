"""JSON log lines for Datadog: one object a line on stdout.

With `DD_LOGS_INJECTION=true` under `ddtrace-run`, ddtrace puts `dd.trace_id`, `dd.span_id`
(and the unified service tags) on each record; this formatter writes them as top-level keys,
which Datadog's log pipeline uses to join a log line to its trace. This module imports
nothing from Django, so gunicorn's master process can use it for its own logs.
"""

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

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
