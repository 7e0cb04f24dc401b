-- The SQL interface: the exposition from SQL, the collector list, the worker status.

-- The exposition starts with HELP/TYPE lines and reports the database as up.
SELECT pgexporter.metrics() LIKE '# HELP %' AS starts_with_help;
SELECT value FROM regress.samples() WHERE metric = 'pg_up';

-- Every enabled collector succeeded in this session.
SELECT labels, value FROM regress.samples()
WHERE metric = 'pg_exporter_collector_success' AND value <> '1';

-- Only the named collectors run; an unknown name is an error.
SELECT DISTINCT metric FROM regress.samples(ARRAY['server']) ORDER BY 1;
SELECT pgexporter.metrics(ARRAY['no_such_collector']);
SELECT pgexporter.metrics(ARRAY[NULL]::text[]);

-- The collector list: every collector, whether enabled, and a description.
SELECT name, enabled, default_enabled, description <> '' AS described
FROM pgexporter.collectors ORDER BY name;

-- The worker is running and listening (port 0 lets the kernel choose): the
-- pid is that of the pg_exporter backend, and the kernel has a listening
-- socket on 127.0.0.1 at that port (/proc/net/tcp: address and port in hex,
-- state 0A). Nothing scraped it over HTTP yet. It runs as pg_monitor, and
-- runs SQL.
SELECT preloaded, listening, listen_error,
       pid = (SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_exporter') AS worker_pid,
       EXISTS (SELECT FROM regexp_split_to_table(pg_read_file('/proc/net/tcp'), E'\n') AS l
               WHERE l ~ ('^ *[0-9]+: 0100007F:' || lpad(upper(to_hex(port)), 4, '0') || ' 00000000:0000 0A '))
         AS kernel_listens,
       scrapes_total, scrape_errors_total, last_scrape_time, last_scrape_duration_seconds, role, sql_error
FROM pgexporter.worker_status();

-- Every function of the extension pins its search_path.
SELECT p.oid::regprocedure AS unpinned
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
WHERE d.refclassid = 'pg_extension'::regclass AND d.classid = 'pg_proc'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_exporter')
  AND NOT coalesce(p.proconfig, '{}') @> '{"search_path=pg_catalog, pg_temp"}'
ORDER BY 1;

-- Monitoring roles may read metrics; others may not.
CREATE ROLE regress_monitor IN ROLE pg_monitor;
CREATE ROLE regress_nobody;
SET ROLE regress_monitor;
SELECT value FROM regress.samples(ARRAY['server']) WHERE metric = 'pg_up';
RESET ROLE;
SET ROLE regress_nobody;
SELECT pgexporter.metrics();
RESET ROLE;
DROP ROLE regress_monitor, regress_nobody;
