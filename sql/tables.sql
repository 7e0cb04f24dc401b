-- Per-relation collectors: tables, indexes, relation_sizes, functions.
-- A schema of our own with known activity; autovacuum off on its tables so
-- that nothing changes behind the test's back.
CREATE SCHEMA regress_tables;
-- scanned: seq- and index-scanned, a per-table analyze threshold, an unused index.
CREATE TABLE regress_tables.scanned (id int PRIMARY KEY, v text)
  WITH (autovacuum_enabled = off, autovacuum_analyze_threshold = 5);
CREATE INDEX scanned_v_idx ON regress_tables.scanned (v);
-- vacuumed: VACUUM ANALYZE, then 20 dead rows; a per-table vacuum scale factor.
CREATE TABLE regress_tables.vacuumed (id int PRIMARY KEY, v text)
  WITH (autovacuum_enabled = off, autovacuum_vacuum_scale_factor = 0.3);
-- noindex: no index and no TOAST table (int only).
CREATE TABLE regress_tables.noindex (n int) WITH (autovacuum_enabled = off);
-- A partitioned table: in pg_stat_user_tables (PG14+), not in pg_statio_user_tables.
CREATE TABLE regress_tables.parted (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE regress_tables.parted_1 PARTITION OF regress_tables.parted FOR VALUES FROM (0) TO (100)
  WITH (autovacuum_enabled = off);
CREATE INDEX parted_id_idx ON regress_tables.parted (id);
-- dups: a failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index.
CREATE TABLE regress_tables.dups (v int) WITH (autovacuum_enabled = off);
INSERT INTO regress_tables.dups VALUES (1), (1);
CREATE UNIQUE INDEX CONCURRENTLY dups_v_idx ON regress_tables.dups (v);
-- toasted: a value stored out of line, read back (TOAST table and its index
-- have block counts of their own).
CREATE TABLE regress_tables.toasted (id int PRIMARY KEY, doc text) WITH (autovacuum_enabled = off);
ALTER TABLE regress_tables.toasted ALTER COLUMN doc SET STORAGE EXTERNAL;
-- Temporary tables are not exported.
CREATE TEMP TABLE regress_temp (x int PRIMARY KEY);

INSERT INTO regress_tables.scanned SELECT g, 'x' || g FROM generate_series(1, 10) g;
INSERT INTO regress_tables.vacuumed SELECT g, 'y' FROM generate_series(1, 100) g;
INSERT INTO regress_tables.noindex SELECT g FROM generate_series(1, 3) g;
INSERT INTO regress_tables.parted SELECT g, g FROM generate_series(1, 5) g;
INSERT INTO regress_tables.toasted SELECT 1, string_agg(md5(g::text), '') FROM generate_series(1, 300) g;
-- Flush the inserts before ANALYZE resets n_mod_since_analyze, else they are
-- counted after it.
SELECT regress.flush_stats();
VACUUM ANALYZE regress_tables.vacuumed;
DELETE FROM regress_tables.vacuumed WHERE id <= 20;

SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET enable_indexonlyscan = off;
SELECT count(*) FROM regress_tables.scanned;
SELECT count(*) FROM regress_tables.noindex;
SELECT length(doc) FROM regress_tables.toasted;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT v FROM regress_tables.scanned WHERE id = 3;
RESET ALL;

-- Functions: tracked from here on in this session; two overloads of f.
SET track_functions = 'all';
CREATE FUNCTION regress_tables.f(int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN $1; END $$;
CREATE FUNCTION regress_tables.f(text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN $1; END $$;
CREATE FUNCTION regress_tables.never(int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN $1; END $$;
SELECT regress_tables.f(1), regress_tables.f(2), regress_tables.f('a');

-- Statistics are sent on when the backend goes idle; make that happen now
-- and read a fresh snapshot.
SELECT regress.flush_stats();
SELECT regress.fresh_stats();

-- Samples of our schema: label names (sorted) and the values of some labels.
CREATE FUNCTION regress.rel_samples(collectors text[])
RETURNS TABLE(metric text, labels text, relname text, indexrelname text, funcname text, value float8)
LANGUAGE sql AS $$
  SELECT m[1],
         (SELECT string_agg(l[1], ',' ORDER BY l[1])
          FROM regexp_matches(m[2], '([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"', 'g') AS l),
         substring(m[2] from '(?:^|,)relname="([^"]*)"'),
         substring(m[2] from 'indexrelname="([^"]*)"'),
         substring(m[2] from 'funcname="([^"]*)"'),
         m[3]::float8
  FROM regexp_split_to_table(pgexporter.metrics(collectors), E'\n') AS line,
       regexp_match(line, '^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$') AS m
  WHERE m[2] ~ 'schemaname="regress_tables"'
$$;

-- Families, types and label sets.
SELECT * FROM regress.families(ARRAY['tables']) ORDER BY 1;
-- (Only our tables: other tables of this database may have been autovacuumed.)
SELECT DISTINCT metric, labels FROM regress.rel_samples(ARRAY['tables']) ORDER BY 1, 2;
SELECT * FROM regress.families(ARRAY['indexes']) ORDER BY 1;
SELECT * FROM regress.shape(ARRAY['indexes']);
SELECT * FROM regress.families(ARRAY['relation_sizes']) ORDER BY 1;
SELECT * FROM regress.shape(ARRAY['relation_sizes']);
SELECT * FROM regress.families(ARRAY['functions']) ORDER BY 1;
SELECT * FROM regress.shape(ARRAY['functions']);

-- Every collector succeeded.
SELECT labels, value FROM regress.samples(ARRAY['tables', 'indexes', 'relation_sizes', 'functions'])
WHERE metric = 'pg_exporter_collector_success' ORDER BY 1;

-- Which relations appear: ours, no temporary table, no system schema, no
-- partitioned table in the statio families.
SELECT metric, string_agg(relname, ',' ORDER BY relname) AS relations
FROM regress.rel_samples(ARRAY['tables'])
WHERE metric IN ('pg_stat_user_tables_seq_scan', 'pg_statio_user_tables_heap_blocks_hit',
                 'pg_stat_user_tables_idx_scan', 'pg_statio_user_tables_toast_blocks_hit',
                 'pg_statio_user_tables_tidx_blocks_hit', 'pg_stat_user_tables_autovacuum_threshold_ratio')
GROUP BY metric ORDER BY metric;
SELECT count(*) AS system_or_temp_samples
FROM regexp_split_to_table(pgexporter.metrics(ARRAY['tables', 'indexes', 'relation_sizes']), E'\n') AS line
WHERE line ~ 'schemaname="(pg_catalog|information_schema|pgexporter|pg_toast[^"]*|pg_temp[^"]*)"'
   OR line ~ 'relname="regress_temp"';

-- Deterministic counters.
SELECT metric, relname, value FROM regress.rel_samples(ARRAY['tables'])
WHERE metric IN ('pg_stat_user_tables_n_tup_ins', 'pg_stat_user_tables_n_tup_del',
                 'pg_stat_user_tables_vacuum_count', 'pg_stat_user_tables_analyze_count',
                 'pg_stat_user_tables_autovacuum_count', 'pg_stat_user_tables_n_dead_tup')
ORDER BY 1, 2;
-- Scans: the seq-scanned and index-scanned tables show them.
SELECT relname, metric, value >= 1 AS at_least_one FROM regress.rel_samples(ARRAY['tables'])
WHERE relname IN ('scanned', 'noindex')
  AND metric IN ('pg_stat_user_tables_seq_scan', 'pg_stat_user_tables_seq_tup_read',
                 'pg_stat_user_tables_idx_scan', 'pg_stat_user_tables_idx_tup_fetch',
                 'pg_statio_user_tables_heap_blocks_hit', 'pg_statio_user_tables_idx_blocks_hit')
ORDER BY 1, 2;
-- Maintenance times: present only for what happened, plausible Unix times.
SELECT metric, relname, value BETWEEN extract(epoch FROM now()) - 3600 AND extract(epoch FROM now()) + 1
  AS recent
FROM regress.rel_samples(ARRAY['tables'])
WHERE metric ~ '^pg_stat_user_tables_last_'
ORDER BY 1, 2;
-- Autovacuum trigger ratios, from reltuples and the per-table settings:
--   vacuumed: 20 dead / (50 + 0.3 * 100) = 0.25; 20 changed / (50 + 0.1 * 100) = 1/3
--   scanned:  0 dead; 10 changed / (5 + 0.1 * reltuples unknown = 0) = 2
--   noindex:  3 changed / 50 = 0.06
SELECT metric, relname, round(value::numeric, 4) AS value FROM regress.rel_samples(ARRAY['tables'])
WHERE metric ~ 'threshold_ratio$' AND relname IN ('vacuumed', 'scanned', 'noindex')
ORDER BY 1, 2;

-- Every value equals its column in pg_stat_user_tables / pg_statio_user_tables
-- (one statement: one statistics snapshot), absent exactly where the view has
-- NULL. The values come from the C API, the views from pg_stat_get_*.
WITH m AS (SELECT relname, metric, value FROM regress.rel_samples(ARRAY['tables'])),
v AS (
  SELECT t.relname, x.metric, x.value
  FROM pg_stat_user_tables t LEFT JOIN pg_statio_user_tables io USING (relid)
  CROSS JOIN LATERAL (VALUES
    ('seq_scan', t.seq_scan::float8), ('seq_tup_read', t.seq_tup_read), ('idx_scan', t.idx_scan),
    ('idx_tup_fetch', t.idx_tup_fetch), ('n_tup_ins', t.n_tup_ins), ('n_tup_upd', t.n_tup_upd),
    ('n_tup_del', t.n_tup_del), ('n_tup_hot_upd', t.n_tup_hot_upd), ('n_live_tup', t.n_live_tup),
    ('n_dead_tup', t.n_dead_tup), ('n_mod_since_analyze', t.n_mod_since_analyze),
    ('last_vacuum', extract(epoch FROM t.last_vacuum)::float8),
    ('last_autovacuum', extract(epoch FROM t.last_autovacuum)::float8),
    ('last_analyze', extract(epoch FROM t.last_analyze)::float8),
    ('last_autoanalyze', extract(epoch FROM t.last_autoanalyze)::float8),
    ('vacuum_count', t.vacuum_count), ('autovacuum_count', t.autovacuum_count),
    ('analyze_count', t.analyze_count), ('autoanalyze_count', t.autoanalyze_count),
    ('heap_blocks_read', io.heap_blks_read), ('heap_blocks_hit', io.heap_blks_hit),
    ('idx_blocks_read', io.idx_blks_read), ('idx_blocks_hit', io.idx_blks_hit),
    ('toast_blocks_read', io.toast_blks_read), ('toast_blocks_hit', io.toast_blks_hit),
    ('tidx_blocks_read', io.tidx_blks_read), ('tidx_blocks_hit', io.tidx_blks_hit)) AS x(metric, value)
  WHERE t.schemaname = 'regress_tables' AND x.value IS NOT NULL),
mm AS (
  SELECT relname, regexp_replace(metric, '^pg_stat(io)?_user_tables_', '') AS metric, value FROM m
  WHERE metric !~ '(_seconds_ago|_threshold_ratio)$')
SELECT count(*) > 100 AS compared_many,
       count(*) FILTER (WHERE mm.value IS DISTINCT FROM v.value) AS different,
       count(*) FILTER (WHERE v.value IS NULL) AS only_exported,
       count(*) FILTER (WHERE mm.value IS NULL) AS only_in_views
FROM v FULL JOIN mm USING (relname, metric);

-- The TOAST table and its index were read (the comparison above is not all zeros).
SELECT metric, value >= 1 AS at_least_one FROM regress.rel_samples(ARRAY['tables'])
WHERE relname = 'toasted' AND metric ~ '^pg_statio_user_tables_(toast|tidx)_blocks_hit$' ORDER BY 1;

-- Indexes.
SELECT metric, relname, indexrelname, value FROM regress.rel_samples(ARRAY['indexes'])
WHERE metric = 'pg_index_valid' OR (relname = 'scanned' AND metric LIKE 'pg_index_%_total')
ORDER BY 1, 2, 3;
SELECT metric, value::float8 >= 1 AS at_least_one FROM regress.samples(ARRAY['indexes'])
WHERE metric IN ('pg_index_invalid_count', 'pg_index_unused_count') ORDER BY 1;
-- Per-index values equal pg_stat_user_indexes / pg_statio_user_indexes.
WITH m AS (SELECT indexrelname, metric, value FROM regress.rel_samples(ARRAY['indexes'])
           WHERE metric <> 'pg_index_valid'),
v AS (
  SELECT s.indexrelname, x.metric, x.value
  FROM pg_stat_user_indexes s JOIN pg_statio_user_indexes io USING (indexrelid)
  CROSS JOIN LATERAL (VALUES
    ('pg_index_scans_total', s.idx_scan::float8), ('pg_index_tuples_read_total', s.idx_tup_read),
    ('pg_index_tuples_fetched_total', s.idx_tup_fetch),
    ('pg_statio_user_indexes_idx_blks_read_total', io.idx_blks_read),
    ('pg_statio_user_indexes_idx_blks_hit_total', io.idx_blks_hit)) AS x(metric, value)
  WHERE s.schemaname = 'regress_tables')
SELECT count(*) >= 25 AS compared_many,
       count(*) FILTER (WHERE m.value IS DISTINCT FROM v.value) AS different
FROM v FULL JOIN m USING (indexrelname, metric);
SELECT count(*) AS blks_hit_on_scanned_pkey FROM regress.rel_samples(ARRAY['indexes'])
WHERE metric = 'pg_statio_user_indexes_idx_blks_hit_total' AND indexrelname = 'scanned_pkey' AND value >= 1;

-- Sizes equal PostgreSQL's own functions; a partitioned table's are its
-- partitions' added up (pg_table_size() of the parent itself is 0).
SELECT s.relname,
       s.value = coalesce((SELECT sum(pg_table_size(t.relid)) FROM pg_partition_tree(r.oid) t WHERE t.isleaf),
                          pg_table_size(r.oid)) AS table_size_ok,
       i.value = coalesce((SELECT sum(pg_indexes_size(t.relid)) FROM pg_partition_tree(r.oid) t WHERE t.isleaf),
                          pg_indexes_size(r.oid)) AS index_size_ok,
       s.value > 0 AS nonzero
FROM regress.rel_samples(ARRAY['relation_sizes']) s
JOIN regress.rel_samples(ARRAY['relation_sizes']) i
  ON i.relname = s.relname AND i.metric = 'pg_stat_user_tables_index_size_bytes'
CROSS JOIN LATERAL (SELECT ('regress_tables.' || s.relname)::regclass AS oid) r
WHERE s.metric = 'pg_stat_user_tables_table_size_bytes'
ORDER BY 1;
-- The worker's own database size is summed from its folder listing (shared
-- with relation_sizes): equal to pg_database_size().
SELECT (regexp_match(pgexporter.metrics(ARRAY['database', 'relation_sizes']),
                     'pg_database_size_bytes\{datname="' || current_database() || '"\} (\S+)'))[1]::float8
       = pg_database_size(current_database()) AS own_database_size_ok;
SELECT indexrelname, value = pg_table_size(('regress_tables.' || indexrelname)::regclass) AS size_ok
FROM regress.rel_samples(ARRAY['relation_sizes']) WHERE metric = 'pg_index_size_bytes' ORDER BY 1;
SELECT value::float8 >= pg_table_size('regress_tables.scanned_v_idx') AS unused_size_counts_scanned_v_idx
FROM regress.samples(ARRAY['relation_sizes']) WHERE metric = 'pg_index_unused_size_bytes';

-- Functions: overloads summed, times in seconds, uncalled functions absent.
SELECT metric, funcname, value FROM regress.rel_samples(ARRAY['functions'])
WHERE metric = 'pg_stat_user_functions_calls_total' ORDER BY 1, 2;
SELECT metric, funcname, value >= 0 AND value < 60 AS plausible_seconds FROM regress.rel_samples(ARRAY['functions'])
WHERE metric <> 'pg_stat_user_functions_calls_total' ORDER BY 1, 2;
-- The same after the tables collector: its statistics pass counts the
-- database's function entries, and only none skips the functions query.
SELECT metric, funcname, value FROM regress.rel_samples(ARRAY['tables', 'functions'])
WHERE metric = 'pg_stat_user_functions_calls_total' ORDER BY 1, 2;

-- A dropped table disappears at once (no stale series).
DROP TABLE regress_tables.noindex;
SELECT count(*) AS noindex_samples FROM regress.rel_samples(ARRAY['tables', 'relation_sizes'])
WHERE relname = 'noindex';

SET track_functions = 'none';
DROP FUNCTION regress.rel_samples(text[]);
SET client_min_messages = warning;
DROP SCHEMA regress_tables CASCADE;
RESET client_min_messages;
