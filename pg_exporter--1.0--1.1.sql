/* pg_exporter--1.0--1.1.sql: custom metrics run as their owners; pinned search paths */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_exporter UPDATE TO '1.1'" to load this file. \quit

-- CREATE EXTENSION pg_exporter installs 1.0 and runs this script: it is the
-- one definition of what 1.1 changes.
--
-- Every function pins its search_path: what it runs resolves names the same
-- way under any caller's path, and nothing a caller created in a schema on
-- that path can stand in for a catalog object.
--
-- Custom metrics run as the role that owns the definition, the way VACUUM
-- runs a table's index functions as the table's owner: a security-restricted
-- operation, read-only, with search_path pinned and every setting it changes
-- undone afterwards. A definition owned by a superuser runs only with
-- pg_exporter.superuser_metrics = on.
--
-- Who may define metrics: the table's owner (the superuser who created the
-- extension) grants INSERT, UPDATE, DELETE and SELECT on the table and USAGE
-- on the schema; each role then sees and changes only the definitions it
-- owns, and owns what it inserts. Only a superuser may define a metric for
-- another role or change a definition's owner. pg_monitor reads every
-- definition.

ALTER FUNCTION pgexporter.metrics(text[]) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION pgexporter.collector_status() SET search_path = pg_catalog, pg_temp;

DROP VIEW pgexporter.collectors;
DROP FUNCTION pgexporter.worker_status();
CREATE FUNCTION pgexporter.worker_status(
    OUT preloaded boolean,
    OUT pid integer,
    OUT listening boolean,
    OUT port integer,
    OUT listen_error text,
    OUT scrapes_total bigint,
    OUT scrape_errors_total bigint,
    OUT last_scrape_time timestamptz,
    OUT last_scrape_duration_seconds double precision,
    OUT role text,
    OUT sql_error text)
RETURNS record
AS 'MODULE_PATHNAME', 'pg_exporter_worker_status'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
CREATE VIEW pgexporter.collectors AS
    SELECT * FROM pgexporter.collector_status();
REVOKE ALL ON FUNCTION pgexporter.worker_status() FROM PUBLIC;
REVOKE ALL ON pgexporter.collectors FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgexporter.worker_status() TO pg_monitor;
GRANT SELECT ON pgexporter.collectors TO pg_monitor;

-- The result columns of a query, from planning it as `owner` (default: the
-- caller); the caller must have the privileges of that role. Planning as
-- oneself gives nothing: every definer's trigger needs it.
DROP FUNCTION pgexporter.query_columns(text);
CREATE FUNCTION pgexporter.query_columns(query text, owner regrole DEFAULT NULL)
RETURNS text[]
AS 'MODULE_PATHNAME', 'pg_exporter_query_columns'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
GRANT EXECUTE ON FUNCTION pgexporter.query_columns(text, regrole) TO PUBLIC;

-- In 1.0 only superusers could define metrics, and the worker ran them with
-- its own privileges. They now run as their owner: the extension's owner
-- (a superuser), so they stop running until an operator gives them a role of
-- their own or sets pg_exporter.superuser_metrics = on.
-- The role the query runs as; the trigger sets it to the inserting role.
ALTER TABLE pgexporter.custom_metrics ADD COLUMN owner regrole;
UPDATE pgexporter.custom_metrics SET owner = (
    SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_exporter')::regrole;
ALTER TABLE pgexporter.custom_metrics ALTER COLUMN owner SET NOT NULL;
ALTER TABLE pgexporter.custom_metrics DROP CONSTRAINT custom_metrics_name_valid;
ALTER TABLE pgexporter.custom_metrics ADD CONSTRAINT custom_metrics_name_valid
    CHECK (name ~ '^[a-zA-Z_:][a-zA-Z0-9_:]*$' AND name !~ '^pg_exporter_' AND length(name) <= 100) NOT VALID;
ALTER TABLE pgexporter.custom_metrics ADD CONSTRAINT custom_metrics_query_length
    CHECK (length(query) <= 65536) NOT VALID;
DO $$
DECLARE
    n bigint := (SELECT count(*) FROM pgexporter.custom_metrics);
BEGIN
    IF n > 0 THEN
        RAISE WARNING 'pg_exporter: % custom metric definition(s) are now owned by the extension''s owner, a superuser, and no longer run', n
            USING HINT = 'Give each one the role it should run as (UPDATE pgexporter.custom_metrics SET owner = ''monitoring_app'' WHERE ...), or set pg_exporter.superuser_metrics = on.';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION pgexporter.custom_metrics_validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me oid := (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);
    is_super boolean := (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);
    cols text[];
    col text;
    seen text[] := '{}';
BEGIN
    -- Ownership first, for disabled rows too: enabling a row later must not
    -- make it run as someone else.
    IF TG_OP = 'INSERT' AND NEW.owner IS NULL THEN
        NEW.owner := me;
    END IF;
    IF NOT is_super THEN
        IF TG_OP = 'INSERT' AND NEW.owner::oid <> me THEN
            RAISE EXCEPTION 'custom metric "%": only a superuser may define a metric for another role', NEW.name
                USING HINT = 'Leave owner out: a definition is owned by the role that inserts it.';
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.owner IS DISTINCT FROM OLD.owner THEN
            RAISE EXCEPTION 'custom metric "%": only a superuser may change the owner of a definition', NEW.name;
        END IF;
    END IF;
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
    -- Plans the query as its owner (does not run it): syntax, objects,
    -- privileges and columns.
    cols := pgexporter.query_columns(NEW.query, NEW.owner);
    FOREACH col IN ARRAY seen LOOP
        IF NOT col = ANY (cols) THEN
            RAISE EXCEPTION 'custom metric "%": the query has no column "%"', NEW.name, col
                USING HINT = format('The query returns: %s.', array_to_string(cols, ', '));
        END IF;
    END LOOP;
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = NEW.owner) THEN
        RAISE NOTICE 'custom metric "%" is owned by a superuser: it runs only with pg_exporter.superuser_metrics = on',
            NEW.name;
    END IF;
    RETURN NEW;
END
$$;

-- Each definer sees and changes its own rows; monitoring roles read all.
ALTER TABLE pgexporter.custom_metrics ENABLE ROW LEVEL SECURITY;
CREATE POLICY custom_metrics_own ON pgexporter.custom_metrics
    USING (owner::oid = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user))
    WITH CHECK (owner::oid = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user));
CREATE POLICY custom_metrics_monitor_read ON pgexporter.custom_metrics
    FOR SELECT TO pg_monitor USING (true);
