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
