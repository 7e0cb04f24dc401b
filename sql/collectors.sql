-- Each collector's families, types and label sets, and the values that are
-- known (per-table values: tables.sql).

SELECT * FROM regress.families(ARRAY['server']) ORDER BY 1;
SELECT * FROM regress.shape(ARRAY['server']);
SELECT value FROM regress.samples(ARRAY['server']) WHERE metric = 'pg_replication_is_replica';

-- pg_stat_database's session columns from 14, parallel worker counts from 18.
SELECT * FROM regress.family_diff(ARRAY['database'], $$
  pg_database_connection_limit gauge
  pg_database_size_bytes gauge
  pg_exporter_database_size_age_seconds gauge
  pg_stat_database_blk_read_time counter
  pg_stat_database_blk_write_time counter
  pg_stat_database_blks_hit counter
  pg_stat_database_blks_read counter
  pg_stat_database_conflicts counter
  pg_stat_database_deadlocks counter
  pg_stat_database_numbackends gauge
  pg_stat_database_stats_reset counter
  pg_stat_database_temp_bytes counter
  pg_stat_database_temp_files counter
  pg_stat_database_tup_deleted counter
  pg_stat_database_tup_fetched counter
  pg_stat_database_tup_inserted counter
  pg_stat_database_tup_returned counter
  pg_stat_database_tup_updated counter
  pg_stat_database_xact_commit counter
  pg_stat_database_xact_rollback counter
  pg_stat_database_active_time_seconds_total counter 14+
  pg_stat_database_idle_in_transaction_time_seconds_total counter 14+
  pg_stat_database_session_time_seconds_total counter 14+
  pg_stat_database_sessions_abandoned_total counter 14+
  pg_stat_database_sessions_fatal_total counter 14+
  pg_stat_database_sessions_killed_total counter 14+
  pg_stat_database_sessions_total counter 14+
  pg_stat_database_parallel_workers_launched_total counter 18+
  pg_stat_database_parallel_workers_to_launch_total counter 18+
$$);
SELECT DISTINCT CASE WHEN metric LIKE 'pg\_stat\_database\_%' THEN 'pg_stat_database_*' ELSE metric END AS family,
       labels
FROM regress.shape(ARRAY['database'])
WHERE metric LIKE 'pg\_database\_%' OR metric LIKE 'pg\_stat\_database\_%' ORDER BY 1;
-- stats_reset for each database whose statistics have a reset time (15+: once
-- reset; 13 and 14 set it when the collector first sees the database).
SELECT count(*) = (SELECT count(*) FROM pg_stat_database WHERE datname IS NOT NULL AND stats_reset IS NOT NULL)
  AS stats_reset_where_set
FROM regress.samples(ARRAY['database']) WHERE metric = 'pg_stat_database_stats_reset';
-- One sample per database that allows connections, none for the shared row.
SELECT count(*) = (SELECT count(*) FROM pg_database WHERE datallowconn) AS one_size_per_database
FROM regress.samples(ARRAY['database']) WHERE metric = 'pg_database_size_bytes';

SELECT * FROM regress.families(ARRAY['activity']) ORDER BY 1;
SELECT * FROM regress.shape(ARRAY['activity']);
-- Every database x 6 states, zero included.
SELECT count(*) = 6 * (SELECT count(*) FROM pg_database) AS all_pairs
FROM regress.samples(ARRAY['activity']) WHERE metric = 'pg_stat_activity_count';

-- (The locks collector's families and labels: locks_more.sql.)
SELECT count(*) = 9 * (SELECT count(*) FROM pg_database) AS all_modes
FROM regress.samples(ARRAY['locks']) WHERE metric = 'pg_locks_count';

-- Settings: units normalised like postgres_exporter.
SELECT metric, value FROM regress.samples(ARRAY['settings'])
WHERE metric IN ('pg_settings_shared_buffers_bytes', 'pg_settings_statement_timeout_seconds',
                 'pg_settings_checkpoint_timeout_seconds', 'pg_settings_fsync', 'pg_settings_max_connections',
                 'pg_settings_work_mem_bytes', 'pg_settings_wal_segment_size_bytes')
ORDER BY 1;
SELECT DISTINCT type FROM regress.families(ARRAY['settings']);
SELECT count(*) > 150 AS many_settings FROM regress.families(ARRAY['settings']);

-- PostgreSQL 17 moved the checkpointer's columns to pg_stat_checkpointer.
SELECT * FROM regress.family_diff(ARRAY['bgwriter'], $$
  pg_stat_bgwriter_buffers_alloc_total counter
  pg_stat_bgwriter_buffers_clean_total counter
  pg_stat_bgwriter_maxwritten_clean_total counter
  pg_stat_bgwriter_stats_reset_total counter
  pg_stat_bgwriter_buffers_backend_fsync_total counter -16
  pg_stat_bgwriter_buffers_backend_total counter -16
  pg_stat_bgwriter_buffers_checkpoint_total counter -16
  pg_stat_bgwriter_checkpoint_sync_time_total counter -16
  pg_stat_bgwriter_checkpoint_write_time_total counter -16
  pg_stat_bgwriter_checkpoints_req_total counter -16
  pg_stat_bgwriter_checkpoints_timed_total counter -16
  pg_stat_checkpointer_buffers_written_total counter 17+
  pg_stat_checkpointer_num_requested_total counter 17+
  pg_stat_checkpointer_num_timed_total counter 17+
  pg_stat_checkpointer_restartpoints_done_total counter 17+
  pg_stat_checkpointer_restartpoints_req_total counter 17+
  pg_stat_checkpointer_restartpoints_timed_total counter 17+
  pg_stat_checkpointer_stats_reset_total counter 17+
  pg_stat_checkpointer_sync_time_seconds_total counter 17+
  pg_stat_checkpointer_sync_time_total counter 17+
  pg_stat_checkpointer_write_time_seconds_total counter 17+
  pg_stat_checkpointer_write_time_total counter 17+
  pg_stat_checkpointer_num_done_total counter 18+
  pg_stat_checkpointer_slru_written_total counter 18+
$$);
SELECT DISTINCT labels FROM regress.shape(ARRAY['bgwriter']) WHERE metric LIKE 'pg\_stat\_%';

-- A primary without standbys: lag 0, no per-standby series.
SELECT * FROM regress.shape(ARRAY['replication']);
SELECT value FROM regress.samples(ARRAY['replication']) WHERE metric = 'pg_replication_lag_seconds';

SELECT * FROM regress.families(ARRAY['process']) ORDER BY 1;
-- This session's own process (pgexporter.metrics() runs the collector in the
-- calling backend), against its /proc/self entries read here: RSS and
-- virtual size within a factor of two (they move a little), the rest exact.
CREATE TEMP TABLE proc AS
SELECT pg_read_file('/proc/self/status') AS status, pg_read_file('/proc/self/limits') AS limits,
       pg_read_file('/proc/self/stat') AS stat, pg_read_file('/proc/stat') AS sys;
CREATE TEMP TABLE p AS SELECT metric, value::float8 AS v FROM regress.samples(ARRAY['process']);
SELECT (SELECT v FROM p WHERE metric = 'pg_exporter_process_threads')
         = (regexp_match(status, 'Threads:\s+(\d+)'))[1]::float8 AS threads,
       (SELECT v FROM p WHERE metric = 'pg_exporter_process_max_fds')
         = (regexp_match(limits, 'Max open files\s+(\d+)'))[1]::float8 AS max_fds,
       (SELECT v FROM p WHERE metric = 'pg_exporter_process_resident_memory_bytes')
         BETWEEN (regexp_match(status, 'VmRSS:\s+(\d+) kB'))[1]::float8 * 1024 / 2
             AND (regexp_match(status, 'VmRSS:\s+(\d+) kB'))[1]::float8 * 1024 * 2 AS rss,
       (SELECT v FROM p WHERE metric = 'pg_exporter_process_virtual_memory_bytes')
         BETWEEN (regexp_match(status, 'VmSize:\s+(\d+) kB'))[1]::float8 * 1024 / 2
             AND (regexp_match(status, 'VmSize:\s+(\d+) kB'))[1]::float8 * 1024 * 2 AS vsize,
       -- btime + starttime (field 22 of stat) / CLK_TCK (100 on Linux)
       abs((SELECT v FROM p WHERE metric = 'pg_exporter_process_start_time_seconds')
           - (regexp_match(sys, 'btime (\d+)'))[1]::float8
           - (regexp_split_to_array(regexp_replace(stat, '^.*\) ', ''), ' '))[20]::float8 / 100) < 1e-6 AS start_time,
       -- (read after /proc above: not behind it)
       (SELECT v FROM p WHERE metric = 'pg_exporter_process_cpu_seconds_total')
         >= ((regexp_split_to_array(regexp_replace(stat, '^.*\) ', ''), ' '))[12]::float8
             + (regexp_split_to_array(regexp_replace(stat, '^.*\) ', ''), ' '))[13]::float8) / 100 AS cpu_not_behind
FROM proc;
-- Open descriptors: as many as /proc/self/fd lists in the same statement,
-- less the one that pg_ls_dir itself holds while listing (after a first
-- call, so that the server's file cache holds what a scrape opens).
SELECT (regexp_match(pgexporter.metrics(ARRAY['process']), 'pg_exporter_process_open_fds ([0-9][0-9.e+]*)'))[1]::float8
       = (SELECT count(*) - 1 FROM pg_ls_dir('/proc/self/fd')) AS open_fds;
-- The unprefixed names are the same values.
SELECT count(*) AS differ FROM p a JOIN p b ON b.metric = 'pg_exporter_' || a.metric
WHERE a.metric LIKE 'process\_%' AND a.metric NOT LIKE '%cpu_seconds_total' AND a.v <> b.v;
DROP TABLE proc, p;

-- Self-metrics name each collector that ran, and only those.
SELECT m[1] AS collector, m[2] AS success
FROM regexp_matches(pgexporter.metrics(ARRAY['locks', 'process']),
                    'pg_exporter_collector_success\{collector="([^"]*)"\} (\S+)', 'g') AS m ORDER BY 1;

-- Disabling a collector: its families disappear, the others stay.
SELECT count(*) AS locks_series FROM regress.samples(ARRAY['server', 'database'])
WHERE metric = 'pg_locks_count';
