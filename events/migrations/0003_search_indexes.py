"""Indexes and helpers for events.search that the ORM cannot describe.

- event_geo_point(lat, lng): the point ll_to_earth computes, as a plain cube, with every
  name schema-qualified. earthdistance 1.1 resolves earth() and cube() through search_path,
  which is empty during pg_restore, so an index on ll_to_earth() itself can fail to rebuild.
  Neither STRICT nor cast to the earth domain, so the planner inlines it: a function call
  and a domain check per row made a distance filter over 3,600 rows cost 40 ms.
- A GiST index on that point (earth_box filter and KNN order for the distance sort).
- A GIN index on to_tsvector('simple', title) for prefix suggestions: unstemmed, so a
  half-typed word is a true prefix of the indexed word ("universi" matches "university").
- A btree on the event duration, so the longest published event is one index probe: it
  bounds how far back in starts_at an event can still be running.
- Larger statistics on search_vector, so rare terms are estimated as rare and stay on GIN.
- events_search_word: distinct title words of upcoming events with a trigram index, for
  "did you mean". Refreshed by events.search.search_words_refresh().
"""

from django.db import migrations

EXTENSION_SCHEMA_SQL = (
    "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = %s"
)

GEO_POINT_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION event_geo_point(latitude double precision, longitude double precision)
RETURNS {cube}.cube
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT {cube}.cube({cube}.cube({cube}.cube(
    {earth}.earth() * pg_catalog.cos(pg_catalog.radians(latitude))
                    * pg_catalog.cos(pg_catalog.radians(longitude))),
    {earth}.earth() * pg_catalog.cos(pg_catalog.radians(latitude))
                    * pg_catalog.sin(pg_catalog.radians(longitude))),
    {earth}.earth() * pg_catalog.sin(pg_catalog.radians(latitude)))
$$
"""


def create_geo_point_function(apps, schema_editor):
    schemas = {}
    with schema_editor.connection.cursor() as cursor:
        for extension in ("cube", "earthdistance"):
            cursor.execute(EXTENSION_SCHEMA_SQL, [extension])
            (schemas[extension],) = cursor.fetchone()
    # Schema names come from the catalog (already quoted by regnamespace), not from input.
    schema_editor.execute(
        GEO_POINT_FUNCTION_SQL.format(cube=schemas["cube"], earth=schemas["earthdistance"])
    )


def drop_geo_point_function(apps, schema_editor):
    schema_editor.execute(
        "DROP FUNCTION IF EXISTS event_geo_point(double precision, double precision)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(create_geo_point_function, drop_geo_point_function),
        migrations.RunSQL(
            sql="""
                CREATE INDEX event_published_geo_gist ON events_eventpost
                USING gist (event_geo_point(latitude, longitude))
                WHERE status = 'published' AND latitude IS NOT NULL
            """,
            reverse_sql="DROP INDEX event_published_geo_gist",
        ),
        migrations.RunSQL(
            sql="""
                CREATE INDEX event_published_title_simple_gin ON events_eventpost
                USING gin (to_tsvector('simple'::regconfig, title))
                WHERE status = 'published'
            """,
            reverse_sql="DROP INDEX event_published_title_simple_gin",
        ),
        migrations.RunSQL(
            sql="""
                CREATE INDEX event_published_duration_idx ON events_eventpost
                ((ends_at - starts_at)) WHERE status = 'published'
            """,
            reverse_sql="DROP INDEX event_published_duration_idx",
        ),
        migrations.RunSQL(
            sql=[
                "ALTER TABLE events_eventpost ALTER COLUMN search_vector SET STATISTICS 1000",
                "ALTER INDEX event_published_title_simple_gin ALTER COLUMN 1 SET STATISTICS 1000",
            ],
            reverse_sql=[
                "ALTER TABLE events_eventpost ALTER COLUMN search_vector SET STATISTICS -1",
            ],
        ),
        migrations.RunSQL(
            sql=[
                """
                CREATE MATERIALIZED VIEW events_search_word AS
                SELECT word, ndoc AS event_count
                FROM ts_stat($q$
                    SELECT to_tsvector('simple'::regconfig, title) FROM events_eventpost
                    WHERE status = 'published' AND ends_at > now()
                $q$)
                WHERE length(word) BETWEEN 3 AND 40 AND word ~ '^[[:alpha:]]+$'
                """,
                # Unique so the view can be refreshed CONCURRENTLY, without blocking searches.
                "CREATE UNIQUE INDEX events_search_word_word_uniq ON events_search_word (word)",
                """
                CREATE INDEX events_search_word_trgm ON events_search_word
                USING gist (word gist_trgm_ops)
                """,
            ],
            reverse_sql="DROP MATERIALIZED VIEW events_search_word",
        ),
    ]
