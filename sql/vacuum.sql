-- The vacuum collector: families, types, label sets; wraparound ages checked
-- against the catalog in the same statement (same transaction, same xid
-- horizon). A running vacuum needs a second session: t/006_sessions_locks.pl.
SELECT * FROM regress.families(ARRAY['vacuum']) ORDER BY 1;
-- Per-vacuum families are empty unless a vacuum (autovacuum too) runs now:
-- their shape is checked by the TAP test.
SELECT * FROM regress.shape(ARRAY['vacuum'])
WHERE metric NOT LIKE 'pg_stat_progress_vacuum%' AND metric NOT IN
  ('pg_vacuum_in_progress', 'pg_vacuum_heap_progress', 'pg_vacuum_heap_vacuumed', 'pg_vacuum_index_vacuum_count',
   'pg_vacuum_is_autovacuum', 'pg_vacuum_duration_seconds', 'pg_stat_activity_autovacuum_timestamp_seconds');

-- postgres_exporter's wraparound families: databases that allow connections,
-- the value is age(datfrozenxid) / mxid_age(datminmxid), in IDs.
WITH s AS (SELECT m[1] AS metric, m[2] AS datname, m[3]::float8 AS v
           FROM regexp_matches(pgexporter.metrics(ARRAY['vacuum']),
             '(pg_database_wraparound_age_datfrozenxid_seconds|pg_database_wraparound_age_datminmxid_seconds|'
             'pg_vacuum_database_freeze_age_xids|pg_vacuum_database_freeze_age_pct_of_max|'
             'pg_vacuum_autovacuum_workers)\{datname="([^"]*)"\} (\S+)', 'g') AS m)
SELECT s.metric, count(*) AS databases,
       bool_and(CASE s.metric
         WHEN 'pg_database_wraparound_age_datfrozenxid_seconds' THEN s.v = age(d.datfrozenxid)
         WHEN 'pg_database_wraparound_age_datminmxid_seconds' THEN s.v = mxid_age(d.datminmxid)
         WHEN 'pg_vacuum_database_freeze_age_xids' THEN s.v = age(d.datfrozenxid)
         WHEN 'pg_vacuum_database_freeze_age_pct_of_max' THEN
           abs(s.v - 100.0 * age(d.datfrozenxid) / current_setting('autovacuum_freeze_max_age')::float8) < 1e-9
         WHEN 'pg_vacuum_autovacuum_workers' THEN
           s.v = (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid
                  AND a.backend_type = 'autovacuum worker')
       END) AS values_match
FROM s JOIN pg_database d ON d.datname = s.datname
GROUP BY s.metric ORDER BY 1;
-- Which databases: wraparound for those allowing connections (template1 too),
-- the Rust freeze-age families without templates, workers for all.
SELECT 'pg_database_wraparound_age_datfrozenxid_seconds' AS metric,
       string_agg(replace(m[1], current_database(), '<current>'), ',' ORDER BY m[1]) AS databases
FROM regexp_matches(pgexporter.metrics(ARRAY['vacuum']),
  'pg_database_wraparound_age_datfrozenxid_seconds\{datname="([^"]*)"\}', 'g') AS m
UNION ALL
SELECT 'pg_vacuum_database_freeze_age_xids',
       string_agg(replace(m[1], current_database(), '<current>'), ',' ORDER BY m[1])
FROM regexp_matches(pgexporter.metrics(ARRAY['vacuum']),
  'pg_vacuum_database_freeze_age_xids\{datname="([^"]*)"\}', 'g') AS m
UNION ALL
SELECT 'pg_vacuum_autovacuum_workers',
       string_agg(replace(m[1], current_database(), '<current>'), ',' ORDER BY m[1])
FROM regexp_matches(pgexporter.metrics(ARRAY['vacuum']),
  'pg_vacuum_autovacuum_workers\{datname="([^"]*)"\}', 'g') AS m;

SELECT value FROM regress.samples(ARRAY['vacuum']) WHERE metric = 'pg_vacuum_freeze_max_age_xids';

-- No vacuum runs in this instance (autovacuum = off in test/regress.conf):
-- pg_vacuum_active is 0, no autovacuum worker is counted, and the per-vacuum
-- families have no series. A running vacuum, its phases and its progress
-- are t/012_sessions_locks.pl's.
SELECT count(*) AS running FROM pg_stat_progress_vacuum;
SELECT value FROM regress.samples(ARRAY['vacuum']) WHERE metric = 'pg_vacuum_active';
SELECT DISTINCT value AS workers FROM regress.samples(ARRAY['vacuum']) WHERE metric = 'pg_vacuum_autovacuum_workers';
SELECT count(*) AS per_vacuum_series FROM regress.samples(ARRAY['vacuum'])
WHERE metric LIKE 'pg_stat_progress_vacuum%' OR metric IN
  ('pg_vacuum_in_progress', 'pg_vacuum_heap_progress', 'pg_vacuum_heap_vacuumed', 'pg_vacuum_index_vacuum_count',
   'pg_vacuum_is_autovacuum', 'pg_vacuum_duration_seconds', 'pg_stat_activity_autovacuum_timestamp_seconds');
