"""What events.search needs to choose a plan per search, measured at 500,000 events.

- A btree on (latitude, longitude) replaces the GiST index on event_geo_point(): cube's
  operators have a fixed selectivity guess (0.1%), so the planner chose a campus-wide box
  scan through it that read 360,000 rows (1.2 s). The btree serves the bounding box of a
  radius search; event_search_facts() counts the box instead of trusting an estimate.
- The duration index covers cancelled events too, which a search can include.
- event_search_facts(query, title_prefix, box, count_limit): in one round trip, the
  planner's estimates of text and title-prefix matches (EXPLAIN, nothing runs), the events
  in the box (counted up to count_limit + 1), the table size and the longest event.
"""

from django.db import migrations

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


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0005_geocode_cache"),
    ]

    operations = [
        migrations.RunSQL(
            sql="DROP INDEX event_published_geo_gist",
            reverse_sql="""
                CREATE INDEX event_published_geo_gist ON events_eventpost
                USING gist (event_geo_point(latitude, longitude))
                WHERE status = 'published' AND latitude IS NOT NULL
            """,
        ),
        migrations.RunSQL(
            sql="""
                CREATE INDEX event_published_coordinates_idx ON events_eventpost
                (latitude, longitude) WHERE status = 'published' AND latitude IS NOT NULL
            """,
            reverse_sql="DROP INDEX event_published_coordinates_idx",
        ),
        migrations.RunSQL(
            sql=[
                "DROP INDEX event_published_duration_idx",
                """
                CREATE INDEX event_visible_duration_idx ON events_eventpost
                ((ends_at - starts_at)) WHERE status <> 'draft'
                """,
            ],
            reverse_sql=[
                "DROP INDEX event_visible_duration_idx",
                """
                CREATE INDEX event_published_duration_idx ON events_eventpost
                ((ends_at - starts_at)) WHERE status = 'published'
                """,
            ],
        ),
        migrations.RunSQL(
            sql=SEARCH_FACTS_FUNCTION_SQL,
            reverse_sql=(
                "DROP FUNCTION event_search_facts(tsquery, tsquery, double precision[], integer)"
            ),
        ),
    ]
