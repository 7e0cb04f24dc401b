/* pg_exporter--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_exporter" to load this file. \quit

-- The exposition text Prometheus would get, rendered in this session.
-- collectors: names to run (NULL = the ones pgexporter.collectors enables).
CREATE FUNCTION pgexporter.metrics(collectors text[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'pg_exporter_metrics'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION pgexporter.collector_status(
    OUT name text,
    OUT enabled boolean,
    OUT default_enabled boolean,
    OUT description text,
    OUT last_success boolean,
    OUT last_duration_seconds double precision,
    OUT last_error text,
    OUT last_scrape_time timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_exporter_collector_status'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

-- Every collector, whether pgexporter.collectors enables it, and the
-- background worker's last outcome for it.
CREATE VIEW pgexporter.collectors AS
    SELECT * FROM pgexporter.collector_status();

CREATE FUNCTION pgexporter.worker_status(
    OUT preloaded boolean,
    OUT pid integer,
    OUT listening boolean,
    OUT port integer,
    OUT listen_error text,
    OUT scrapes_total bigint,
    OUT scrape_errors_total bigint,
    OUT last_scrape_time timestamptz,
    OUT last_scrape_duration_seconds double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'pg_exporter_worker_status'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

-- The metrics expose database metadata: monitoring roles only.
REVOKE ALL ON FUNCTION pgexporter.metrics(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgexporter.collector_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION pgexporter.worker_status() FROM PUBLIC;
REVOKE ALL ON pgexporter.collectors FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgexporter.metrics(text[]) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgexporter.collector_status() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgexporter.worker_status() TO pg_monitor;
GRANT SELECT ON pgexporter.collectors TO pg_monitor;
GRANT USAGE ON SCHEMA pgexporter TO pg_monitor;

-- ---------------------------------------------------------------------------
-- User-defined metrics. Each enabled row becomes one or more families named
-- <name>_<column>: one per gauge or counter column, labelled by the label
-- columns. The worker runs each query in its own subtransaction with its own
-- timeout, as its own (read-only) role; a failing query costs only its own
-- metrics and shows as pg_exporter_collector_success{collector="custom:<name>"} 0.
-- Only the extension owner (a superuser) may define them: the queries run
-- with the worker's privileges.

-- The result columns of a query, from planning it (it is never run).
CREATE FUNCTION pgexporter.query_columns(query text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'pg_exporter_query_columns'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION pgexporter.query_columns(text) FROM PUBLIC;

CREATE TABLE pgexporter.custom_metrics (
    name      text PRIMARY KEY,
    query     text NOT NULL,
    labels    text[] NOT NULL DEFAULT '{}',
    gauges    text[] NOT NULL DEFAULT '{}',
    counters  text[] NOT NULL DEFAULT '{}',
    help      text,
    timeout   interval,
    enabled   boolean NOT NULL DEFAULT true,
    CONSTRAINT custom_metrics_name_valid
        CHECK (name ~ '^[a-zA-Z_:][a-zA-Z0-9_:]*$' AND name !~ '^pg_exporter_'),
    CONSTRAINT custom_metrics_timeout_range
        CHECK (timeout IS NULL OR (timeout >= interval '1 millisecond' AND timeout <= interval '1 hour'))
);

COMMENT ON TABLE pgexporter.custom_metrics IS
    'pg_exporter user-defined metrics: families <name>_<column> from a SELECT';

CREATE FUNCTION pgexporter.custom_metrics_validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    cols text[];
    col text;
    seen text[] := '{}';
BEGIN
    -- A disabled definition is not run: it may be parked broken (and is
    -- validated again when enabled).
    IF NOT NEW.enabled THEN
        RETURN NEW;
    END IF;
    IF cardinality(NEW.gauges) + cardinality(NEW.counters) = 0 THEN
        RAISE EXCEPTION 'custom metric "%" has no value column', NEW.name
            USING HINT = 'List the numeric result columns in gauges or counters.';
    END IF;
    FOREACH col IN ARRAY NEW.labels || NEW.gauges || NEW.counters LOOP
        IF col IS NULL OR col !~ '^[a-zA-Z_][a-zA-Z0-9_]*$' OR col ~ '^__' THEN
            RAISE EXCEPTION 'custom metric "%": "%" is not a valid column name for a label or metric',
                NEW.name, col
                USING HINT = 'Use letters, digits and underscores; alias the column in the query.';
        END IF;
        IF col = ANY (seen) THEN
            RAISE EXCEPTION 'custom metric "%": column "%" is listed twice', NEW.name, col
                USING HINT = 'A column is either a label, a gauge or a counter.';
        END IF;
        seen := seen || col;
    END LOOP;
    -- Plans the query (does not run it): syntax, objects and columns.
    cols := pgexporter.query_columns(NEW.query);
    FOREACH col IN ARRAY seen LOOP
        IF NOT col = ANY (cols) THEN
            RAISE EXCEPTION 'custom metric "%": the query has no column "%"', NEW.name, col
                USING HINT = format('The query returns: %s.', array_to_string(cols, ', '));
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

CREATE TRIGGER custom_metrics_validate
    BEFORE INSERT OR UPDATE ON pgexporter.custom_metrics
    FOR EACH ROW EXECUTE FUNCTION pgexporter.custom_metrics_validate();

-- Definitions are user data: pg_dump keeps them.
SELECT pg_catalog.pg_extension_config_dump('pgexporter.custom_metrics', '');

REVOKE ALL ON pgexporter.custom_metrics FROM PUBLIC;
GRANT SELECT ON pgexporter.custom_metrics TO pg_monitor;
