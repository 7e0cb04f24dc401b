-- WAL, archiver, WAL receiver, I/O and replication slot collectors.
-- Values vary between runs: assert shapes, absences and movements.

-- A sample's value as a number (NULL when absent).
CREATE FUNCTION regress_value(collector text, name text, label_re text DEFAULT NULL)
RETURNS float8 LANGUAGE sql AS $$
  SELECT max(m[3]::float8)
  FROM regexp_split_to_table(pgexporter.metrics(ARRAY[collector]), E'\n') AS line,
       regexp_match(line, '^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$') AS m
  WHERE m[1] = name AND (label_re IS NULL OR coalesce(m[2], '') ~ label_re)
$$;

-- Waits (up to 30 s) until a sample exceeds a value: the checkpointer reports
-- its statistics just after the CHECKPOINT command returns.
CREATE FUNCTION regress_wait_above(collector text, name text, threshold float8)
RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..300 LOOP
    PERFORM pg_stat_clear_snapshot();
    IF regress_value(collector, name) > threshold THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN false;
END $$;

-- pg_stat_wal from 14; its write/sync columns until 17 (18 moved them to pg_stat_io).
SELECT * FROM regress.family_diff(ARRAY['wal'], $$
  pg_wal_segments gauge
  pg_wal_size_bytes gauge
  pg_xlog_location_bytes gauge
  pg_stat_wal_buffers_full_total counter 14+
  pg_stat_wal_bytes_total counter 14+
  pg_stat_wal_fpi_total counter 14+
  pg_stat_wal_fpi_bytes_total counter 19+
  pg_stat_wal_records_total counter 14+
  pg_stat_wal_sync_time_seconds_total counter 14-17
  pg_stat_wal_sync_total counter 14-17
  pg_stat_wal_write_time_seconds_total counter 14-17
  pg_stat_wal_write_total counter 14-17
$$);
SELECT DISTINCT labels FROM regress.shape(ARRAY['wal']) WHERE metric NOT LIKE '%\_collector\_%';
SELECT regress_value('wal', 'pg_wal_segments') >= 1 AS has_segments,
       regress_value('wal', 'pg_wal_size_bytes') >= 16 * 1024 * 1024 AS segment_sized,
       regress_value('wal', 'pg_wal_size_bytes')
         = regress_value('wal', 'pg_wal_segments') * pg_size_bytes(current_setting('wal_segment_size')) AS size_matches;
-- The position is the server's current LSN (nothing writes between the two).
SELECT regress_value('wal', 'pg_xlog_location_bytes') <= (pg_current_wal_lsn() - '0/0')::float8 AS lsn_not_ahead,
       regress_value('wal', 'pg_xlog_location_bytes') > 0 AS lsn_positive;

-- pg_ls_waldir() needs pg_monitor (or superuser): without it the directory
-- families are left out and the rest of the collector still works.
CREATE ROLE regress_wal_plain;
CREATE ROLE regress_wal_monitor IN ROLE pg_monitor;
GRANT USAGE ON SCHEMA pgexporter TO regress_wal_plain, regress_wal_monitor;
GRANT EXECUTE ON FUNCTION pgexporter.metrics(text[]) TO regress_wal_plain, regress_wal_monitor;
SET ROLE regress_wal_plain;
SELECT metric, labels, value FROM regress.samples(ARRAY['wal'])
WHERE metric LIKE 'pg_wal_%' OR metric = 'pg_exporter_collector_success' ORDER BY 1;
-- (pg_stat_wal: 8 families on 14 to 17, 4 on 18, 5 from 19)
SELECT count(*) = CASE WHEN current_setting('server_version_num')::int < 140000 THEN 0
                       WHEN current_setting('server_version_num')::int < 180000 THEN 8
                       WHEN current_setting('server_version_num')::int < 190000 THEN 4 ELSE 5 END AS wal_stat_families
FROM regress.families(ARRAY['wal']) WHERE family LIKE 'pg_stat_wal_%';
RESET ROLE;
SET ROLE regress_wal_monitor;
SELECT metric, labels FROM regress.samples(ARRAY['wal'])
WHERE metric LIKE 'pg_wal_%' OR metric = 'pg_exporter_collector_success' ORDER BY 1;
RESET ROLE;
REVOKE ALL ON FUNCTION pgexporter.metrics(text[]) FROM regress_wal_plain, regress_wal_monitor;
REVOKE ALL ON SCHEMA pgexporter FROM regress_wal_plain, regress_wal_monitor;
DROP ROLE regress_wal_plain, regress_wal_monitor;

-- Writing WAL, switching segments and a checkpoint move the counters
-- (requested checkpoints: pg_stat_checkpointer from 17).
CREATE TEMP TABLE checkpoints_req AS
SELECT CASE WHEN current_setting('server_version_num')::int >= 170000
            THEN 'pg_stat_checkpointer_num_requested_total' ELSE 'pg_stat_bgwriter_checkpoints_req_total' END AS name;
CREATE TEMP TABLE before AS
SELECT regress_value('wal', 'pg_stat_wal_records_total') AS records,
       regress_value('wal', 'pg_stat_wal_bytes_total') AS bytes,
       regress_value('wal', 'pg_stat_wal_fpi_total') AS fpi,
       regress_value('wal', 'pg_xlog_location_bytes') AS lsn,
       regress_value('bgwriter', (SELECT name FROM checkpoints_req)) AS checkpoints;
CREATE TABLE regress_wal (id int, v text);
INSERT INTO regress_wal SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g;
SELECT pg_switch_wal() IS NOT NULL AS switched;
CHECKPOINT;
UPDATE regress_wal SET v = 'y';  -- first change of each page after the checkpoint: full page images
SELECT regress.flush_stats();
SELECT regress.fresh_stats();
-- (no pg_stat_wal before 14)
SELECT coalesce(regress_value('wal', 'pg_stat_wal_records_total') > records, v13) AS records_moved,
       coalesce(regress_value('wal', 'pg_stat_wal_bytes_total') > bytes + 100000, v13) AS bytes_moved,
       coalesce(regress_value('wal', 'pg_stat_wal_fpi_total') > fpi, v13) AS fpi_moved,
       regress_value('wal', 'pg_xlog_location_bytes') - lsn >= 100000 AS lsn_moved
FROM before, (SELECT current_setting('server_version_num')::int < 140000 AS v13) v;
SELECT regress_wait_above('bgwriter', (SELECT name FROM checkpoints_req), checkpoints) AS checkpoint_counted
FROM before;
-- Times in seconds (14 to 17): track_wal_io_timing is off here, so exactly 0.
SELECT count(*) = CASE WHEN current_setting('server_version_num')::int BETWEEN 140000 AND 179999 THEN 2 ELSE 0 END
         AS time_series,
       coalesce(bool_and(value = '0'), true) AS zero
FROM regress.samples(ARRAY['wal']) WHERE metric LIKE 'pg_stat_wal_%time_seconds_total';
DROP TABLE regress_wal;

-- Archiving is off: counters at 0, no age at all (never archived, never failed).
SELECT current_setting('archive_mode') AS archive_mode;
SELECT * FROM regress.families(ARRAY['archiver']) ORDER BY 1;
SELECT * FROM regress.samples(ARRAY['archiver']) WHERE metric LIKE 'pg_stat_archiver%' ORDER BY 1;

-- A primary has no WAL receiver: the collector succeeds and emits no sample.
SELECT * FROM regress.shape(ARRAY['wal_receiver']);
SELECT value FROM regress.samples(ARRAY['wal_receiver']) WHERE metric = 'pg_exporter_collector_success';

-- pg_stat_io needs 16: before, the io collector is skipped, with no families
-- and no self-metrics (unsupported is not a failure). From 16: one series
-- per row of the view and column that is not NULL there, labelled
-- {backend_type, context, object}; bytes natively from 18, operations times
-- op_bytes on 16 and 17 (op_bytes exported there).
CREATE FUNCTION regress_io_expected() RETURNS TABLE(metric text, series bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v int := current_setting('server_version_num')::int;
  cols text[] := ARRAY['reads', 'read_time', 'writes', 'write_time', 'writebacks', 'writeback_time', 'extends',
                       'extend_time', 'hits', 'evictions', 'reuses', 'fsyncs', 'fsync_time'];
  col text;
  expr text;
BEGIN
  IF v < 160000 THEN
    RETURN;
  END IF;
  cols := cols || ARRAY['read_bytes', 'write_bytes', 'extend_bytes'] || CASE WHEN v < 180000 THEN ARRAY['op_bytes'] END;
  FOREACH col IN ARRAY cols LOOP
    metric := 'pg_stat_io_' || CASE WHEN col LIKE '%\_time' THEN col || '_seconds_total'
                                    WHEN col = 'op_bytes' THEN col ELSE col || '_total' END;
    expr := CASE WHEN v < 180000 AND col LIKE '%\_bytes' AND col <> 'op_bytes'
                 THEN replace(col, '_bytes', 's') || ' * op_bytes' ELSE col END;
    EXECUTE format('SELECT count(%s) FROM pg_stat_io', expr) INTO series;
    RETURN NEXT;
  END LOOP;
END $$;
SELECT coalesce(e.metric, s.metric) AS metric, e.series AS expected, s.series AS exported
FROM regress_io_expected() e
FULL JOIN (SELECT metric, count(*) AS series FROM regress.samples(ARRAY['io'])
           WHERE metric LIKE 'pg_stat_io%' GROUP BY 1) s USING (metric)
WHERE e.series IS DISTINCT FROM s.series ORDER BY 1;
SELECT (count(*) > 0) = (current_setting('server_version_num')::int >= 160000) AS self_metrics_from_16
FROM regress.samples(ARRAY['io']) WHERE metric LIKE 'pg_exporter_collector%';
SELECT DISTINCT labels FROM regress.shape(ARRAY['io']) WHERE metric LIKE 'pg_stat_io%'
UNION SELECT 'backend_type,context,object' WHERE current_setting('server_version_num')::int < 160000;
DROP FUNCTION regress_io_expected();

-- Replication slots: one reserving WAL, one not (yet).
SELECT slot_name FROM pg_create_physical_replication_slot('regress_reserved', true);
SELECT slot_name FROM pg_create_physical_replication_slot('regress_lazy');
SELECT * FROM regress.shape(ARRAY['replication']) WHERE metric LIKE 'pg_replication_slots%';
-- Both inactive; a physical slot has no confirmed flush position and, with
-- max_slot_wal_keep_size = -1, no safe WAL size: absent, not 0. The lazy slot
-- reserves nothing: no retained bytes, no wal_status.
SELECT metric, labels, value FROM (
  SELECT m[1] AS metric, m[2] AS labels, m[3] AS value
  FROM regexp_split_to_table(pgexporter.metrics(ARRAY['replication']), E'\n') AS line,
       regexp_match(line, '^(pg_replication_slots_[a-z_]+)(\{.*\}) (\S+)$') AS m
  WHERE m IS NOT NULL AND m[1] IN ('pg_replication_slots_active', 'pg_replication_slots_slot_is_active',
                                   'pg_replication_slots_wal_status', 'pg_replication_slots_slot_confirmed_flush_lsn',
                                   'pg_replication_slots_safe_wal_size_bytes')) s
ORDER BY 1, 2;
SELECT regress_value('replication', 'pg_replication_slots_pg_wal_lsn_diff', 'regress_reserved') >= 0 AS retained,
       regress_value('replication', 'pg_replication_slots_pg_wal_lsn_diff', 'regress_lazy') IS NULL AS lazy_retains_nothing,
       regress_value('replication', 'pg_replication_slots_slot_current_wal_lsn', 'regress_lazy')
         = regress_value('replication', 'pg_replication_slots_slot_current_wal_lsn', 'regress_reserved') AS same_current_lsn;
SELECT pg_drop_replication_slot('regress_reserved'), pg_drop_replication_slot('regress_lazy');
SELECT count(*) AS slot_series FROM regress.samples(ARRAY['replication']) WHERE metric LIKE 'pg_replication_slots%';

DROP FUNCTION regress_wait_above(text, text, float8);
DROP FUNCTION regress_value(text, text, text);
