"""Rebuild what search keeps beside the events: the did-you-mean words and the prefix index.

    python manage.py search_index_rebuild

Beat does both on a schedule; run this after loading events in bulk (COPY sends no signals).
"""

from django.core.management.base import BaseCommand

from events.search import prefix_index_rebuild, search_words_refresh


class Command(BaseCommand):
    help = "Refresh the did-you-mean vocabulary and rebuild the suggestions' Redis prefix index."

    def handle(self, *args, **options) -> None:
        search_words_refresh()
        prefixes = prefix_index_rebuild()
        self.stdout.write(f"search words refreshed; prefix index: {prefixes} prefixes")
