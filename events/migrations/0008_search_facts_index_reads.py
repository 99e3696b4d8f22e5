"""event_search_facts() also estimates how many events the index plan reads.

- index_rows: the planner's estimate for querytree(query), the part of the query a GIN scan
  can use. `club -meeting` matches few events, but its index plan fetches every `club` event
  and then drops those with `meeting`; at 5,000 events that was a sequential scan of the
  table (6–7 ms) where the walk took 3–5 ms. A query of negations only (querytree 'T')
  cannot use the index at all: index_rows is then the table size.
It is a second EXPLAIN (about 0.2 ms), made only for queries with negations.
(An estimate of upcoming events, which bounds the walk on a small table, was tried too: it
changed no plan in the benchmark mix and cost another 0.2 ms per search.)
"""

from importlib import import_module

from django.db import migrations

PREVIOUS_FUNCTION_SQL = import_module(
    "events.migrations.0006_search_plan_facts"
).SEARCH_FACTS_FUNCTION_SQL

SEARCH_FACTS_FUNCTION_SQL = """
CREATE FUNCTION event_search_facts(
    query tsquery,
    title_prefix tsquery,
    box double precision[],
    count_limit integer,
    OUT query_is_empty boolean,
    OUT estimated_matches double precision,
    OUT estimated_title_matches double precision,
    OUT box_rows bigint,
    OUT event_rows double precision,
    OUT longest_event interval,
    OUT index_rows double precision
)
-- VOLATILE only because PostgreSQL allows EXPLAIN nowhere else; it reads, never writes.
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    plan json;
    searchable text;
BEGIN
    SELECT reltuples INTO event_rows FROM pg_class WHERE oid = 'events_eventpost'::regclass;
    query_is_empty := query IS NULL OR numnode(query) = 0;
    IF NOT query_is_empty THEN
        -- EXECUTE ... USING plans with the value of the query, as a literal would be.
        EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM events_eventpost WHERE search_vector @@ $1'
            INTO plan USING query;
        estimated_matches := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision;
        searchable := querytree(query);
        IF searchable = 'T' THEN
            index_rows := greatest(event_rows, estimated_matches);
        ELSIF searchable = query::text THEN
            index_rows := estimated_matches;
        ELSE
            EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM events_eventpost'
                ' WHERE search_vector @@ $1'
                INTO plan USING searchable::tsquery;
            index_rows := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision;
        END IF;
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
    SELECT coalesce(max(ends_at - starts_at), interval '0') INTO longest_event
    FROM events_eventpost WHERE status <> 'draft';
END
$$
"""

DROP_SQL = "DROP FUNCTION event_search_facts(tsquery, tsquery, double precision[], integer)"


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0007_email_delivery"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[DROP_SQL, SEARCH_FACTS_FUNCTION_SQL],
            reverse_sql=[DROP_SQL, PREVIOUS_FUNCTION_SQL.replace("CREATE OR REPLACE", "CREATE")],
        ),
    ]
