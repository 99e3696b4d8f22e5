"""Indexes and helpers for events.search that the ORM cannot describe.

- event_geo_point(lat, lng): the point ll_to_earth computes, as a plain cube, with every
  name schema-qualified (earthdistance 1.1 resolves earth() and cube() through search_path).
  Neither STRICT nor cast to the earth domain, so the planner inlines it: a function call
  and a domain check per row made a distance filter over 3,600 rows cost 40 ms.
- A btree on (latitude, longitude) for the bounding box of a radius search. Not a GiST index
  on ll_to_earth(): cube's operators have a fixed selectivity guess (0.1%), so the planner
  chose a campus-wide box scan that read 360,000 rows (1.2 s at 500k events); a btree
  column has a histogram and the planner knows when a box is selective.
- A GIN index on to_tsvector('simple', title) for prefix suggestions: unstemmed, so a
  half-typed word is a true prefix of the indexed word ("universi" matches "university").
- A btree on the event duration, so the longest visible event is one index probe: it
  bounds how far back in starts_at an event can still be running.
- event_search_facts(query, title_prefix): in one round trip, what events.search needs to
  choose a plan: the planner's estimates of matches (EXPLAIN, nothing runs), the table
  size and the longest event.
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


SEARCH_FACTS_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION event_search_facts(
    query tsquery,
    title_prefix tsquery,
    box double precision[],
    count_limit integer,
    OUT query_is_empty boolean,
    OUT estimated_matches double precision,
    OUT estimated_title_matches double precision,
    OUT box_rows bigint,
    OUT event_rows double precision,
    OUT longest_event interval
)
-- VOLATILE only because PostgreSQL allows EXPLAIN nowhere else; it reads, never writes.
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    plan json;
BEGIN
    query_is_empty := query IS NULL OR numnode(query) = 0;
    IF NOT query_is_empty THEN
        -- EXECUTE ... USING plans with the value of the query, as a literal would be.
        EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM events_eventpost WHERE search_vector @@ $1'
            INTO plan USING query;
        estimated_matches := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision;
    END IF;
    IF title_prefix IS NOT NULL THEN
        EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM events_eventpost'
            ' WHERE status = ''published'' AND to_tsvector(''simple''::regconfig, title) @@ $1'
            INTO plan USING title_prefix;
        estimated_title_matches := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision;
    END IF;
    IF box IS NOT NULL THEN
        -- Counted, not estimated: the planner multiplies the latitude and longitude
        -- selectivities, which is far off for events clustered on a campus.
        SELECT count(*) INTO box_rows FROM (
            SELECT 1 FROM events_eventpost
            WHERE status = 'published' AND latitude IS NOT NULL
              AND latitude BETWEEN box[1] AND box[2] AND longitude BETWEEN box[3] AND box[4]
            LIMIT count_limit + 1
        ) AS in_box;
    END IF;
    SELECT reltuples INTO event_rows FROM pg_class WHERE oid = 'events_eventpost'::regclass;
    SELECT coalesce(max(ends_at - starts_at), interval '0') INTO longest_event
    FROM events_eventpost WHERE status <> 'draft';
END
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
                CREATE INDEX event_published_coordinates_idx ON events_eventpost
                (latitude, longitude) WHERE status = 'published' AND latitude IS NOT NULL
            """,
            reverse_sql="DROP INDEX event_published_coordinates_idx",
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
                CREATE INDEX event_visible_duration_idx ON events_eventpost
                ((ends_at - starts_at)) WHERE status <> 'draft'
            """,
            reverse_sql="DROP INDEX event_visible_duration_idx",
        ),
        migrations.RunSQL(
            sql=SEARCH_FACTS_FUNCTION_SQL,
            reverse_sql="DROP FUNCTION event_search_facts(tsquery, tsquery, double precision[], integer)",
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
