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

-- The worker is running and listening (port 0 lets the kernel choose), as
-- pg_monitor, and runs SQL.
SELECT preloaded, pid > 0 AS has_pid, listening, port > 0 AS has_port, role, sql_error
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
