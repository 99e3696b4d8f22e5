"""Did-you-mean's vocabulary: every searched word of upcoming events, not only title words.

A word found only in descriptions or place names (a rare "tango" in one description) was not
in events_search_word, so a search for it with fewer than three matches was "corrected" to the
nearest title word ("tangent"), and the one event it found was replaced by others. Search
matches title, place and description (the search_vector), so the vocabulary now holds the
words of all three: a word that matches something is never taken for a typo.
"""

from django.db import migrations

WORDS_SQL = """
CREATE MATERIALIZED VIEW events_search_word AS
SELECT word, ndoc AS event_count
FROM ts_stat($q$
    SELECT to_tsvector('simple'::regconfig, {text}) FROM events_eventpost
    WHERE status = 'published' AND ends_at > now()
$q$)
WHERE length(word) BETWEEN 3 AND 40 AND word ~ '^[[:alpha:]]+$'
"""
ALL_TEXT = "title || ' ' || location_name || ' ' || description"
INDEXES_SQL = [
    # Unique so the view can be refreshed CONCURRENTLY, without blocking searches.
    "CREATE UNIQUE INDEX events_search_word_word_uniq ON events_search_word (word)",
    "CREATE INDEX events_search_word_trgm ON events_search_word USING gist (word gist_trgm_ops)",
]


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0021_saved_searches"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                "DROP MATERIALIZED VIEW events_search_word",
                WORDS_SQL.format(text=ALL_TEXT),
                *INDEXES_SQL,
            ],
            reverse_sql=[
                "DROP MATERIALIZED VIEW events_search_word",
                WORDS_SQL.format(text="title"),
                *INDEXES_SQL,
            ],
        ),
    ]
