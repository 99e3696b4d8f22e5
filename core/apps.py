import sys

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "E-Ren platform"

    def ready(self) -> None:
        # Under ddtrace-run (the pods), ddtrace is imported before Django: keep the tokens of
        # URLs out of the traces it sends. Elsewhere ddtrace is not loaded for nothing.
        if "ddtrace" in sys.modules:
            from .tracing import tracer_redact_tokens

            tracer_redact_tokens()
