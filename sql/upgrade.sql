-- 1.0 -> 1.1: definitions get an owner (the extension's owner: a superuser,
-- so they stop running and the update says so), every function pins its
-- search_path, query_columns plans as an owner.
CREATE DATABASE regress_upgrade;
\c regress_upgrade
CREATE EXTENSION pg_exporter VERSION '1.0';
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('old_metric', 'SELECT 1 AS x', '{x}');
-- The current library refuses 1.0's definitions: they have no owner to run as.
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['custom']), E'\n') AS line
WHERE line LIKE 'pg_exporter_collector_success%' ORDER BY 1;
ALTER EXTENSION pg_exporter UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_exporter';
SELECT name, owner = (SELECT extowner FROM pg_extension WHERE extname = 'pg_exporter')::regrole AS extension_owner
FROM pgexporter.custom_metrics;
SELECT p.oid::regprocedure AS function, p.proconfig
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
WHERE d.refclassid = 'pg_extension'::regclass AND d.classid = 'pg_proc'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_exporter')
ORDER BY p.proname;
SELECT pgexporter.query_columns('SELECT 1 AS a, 2 AS b');
-- Owned by a superuser now: reported, not run.
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['custom']), E'\n') AS line
WHERE line LIKE 'pg_exporter_collector_success%' ORDER BY 1;
-- Given a role, it runs.
CREATE ROLE regress_upgraded;
UPDATE pgexporter.custom_metrics SET owner = 'regress_upgraded';
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['custom']), E'\n') AS line
WHERE line LIKE 'pg_exporter_collector_success%' OR line LIKE 'old_metric%' ORDER BY 1;
\c contrib_regression
DROP DATABASE regress_upgrade;
DROP ROLE regress_upgraded;
