from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        # Registers the receivers that forget cached synonyms when staff edit them.
        from .search import synonyms  # noqa: F401
