/* pg_exporter--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_exporter" to load this file. \quit

-- The exposition text Prometheus would get, rendered in this session.
-- collectors: names to run (NULL = the ones pg_exporter.collectors enables).
CREATE FUNCTION pg_exporter.metrics(collectors text[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'pg_exporter_metrics'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION pg_exporter.collector_status(
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

-- Every collector, whether pg_exporter.collectors enables it, and the
-- background worker's last outcome for it.
CREATE VIEW pg_exporter.collectors AS
    SELECT * FROM pg_exporter.collector_status();

CREATE FUNCTION pg_exporter.worker_status(
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
REVOKE ALL ON FUNCTION pg_exporter.metrics(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_exporter.collector_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_exporter.worker_status() FROM PUBLIC;
REVOKE ALL ON pg_exporter.collectors FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pg_exporter.metrics(text[]) TO pg_monitor;
GRANT EXECUTE ON FUNCTION pg_exporter.collector_status() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pg_exporter.worker_status() TO pg_monitor;
GRANT SELECT ON pg_exporter.collectors TO pg_monitor;
GRANT USAGE ON SCHEMA pg_exporter TO pg_monitor;
