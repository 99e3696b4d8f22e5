"""Datadog APM: the tokens of URLs (core.redaction) never leave in a trace.

ddtrace tags each web span with the full URL (`http.url`, query string included) and, for
some errors, uses the path as the resource. A trace processor rewrites every string tag and
the resource before the trace is sent, so the check-in, calendar, reminder and reset
tokens show as `[token]` in Datadog, whatever integration tagged them.
"""

from ddtrace.trace import TraceFilter, tracer

from .redaction import redact_tokens


class RedactTokensTraceFilter(TraceFilter):
    def process_trace(self, trace):
        for span in trace:
            if span.resource:
                span.resource = redact_tokens(span.resource)
            for key, value in span.get_tags().items():
                if isinstance(value, str) and (redacted := redact_tokens(value)) != value:
                    span.set_tag(key, redacted)
        return trace


def tracer_redact_tokens() -> None:
    """Make the filter the global tracer's trace processor (the app sets no other)."""
    tracer.configure(trace_processors=[RedactTokensTraceFilter()])
