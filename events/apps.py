from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        # Registers the receivers that forget cached synonyms and categories when staff edit
        # them, and those that make cached search results stale when events change.
        from . import selectors  # noqa: F401
        from .search import result_cache, synonyms  # noqa: F401
