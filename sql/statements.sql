-- The statements collector (pg_stat_statements, preloaded by test/regress.conf).
SHOW pg_exporter.statements_limit;
SHOW pg_exporter.statements_query_length;
ALTER SYSTEM SET pg_exporter.statements_limit = 0;
ALTER SYSTEM SET pg_exporter.statements_limit = 10001;

-- The samples with their label values (regress.samples keeps only label names).
CREATE FUNCTION regress_stmt_samples()
RETURNS TABLE(metric text, "user" text, datname text, queryid text, value text)
LANGUAGE sql AS $$
  SELECT m[1], substring(m[2] FROM 'user="([^"]*)"'), substring(m[2] FROM 'datname="([^"]*)"'),
         substring(m[2] FROM 'queryid="([^"]*)"'), m[3]
  FROM regexp_split_to_table(pgexporter.metrics(ARRAY['statements']), E'\n') AS line,
       regexp_match(line, '^(pg_stat_statements_[a-z_]+)\{(.*)\} (\S+)$') AS m
  WHERE m IS NOT NULL
$$;

-- Not installed in this database yet: success, no samples.
SELECT count(*) AS samples FROM regress.samples(ARRAY['statements']) WHERE metric LIKE 'pg_stat_statements%';
SELECT value FROM regress.samples(ARRAY['statements']) WHERE metric = 'pg_exporter_collector_success';

-- Installed in a schema that is not on any search_path.
CREATE SCHEMA "regress Stat";
CREATE EXTENSION pg_stat_statements SCHEMA "regress Stat";
-- (void before 1.11, the reset time from 1.11)
SELECT count(*) AS reset FROM (SELECT "regress Stat".pg_stat_statements_reset()) r;
CREATE TABLE regress_stmt (id int);
INSERT INTO regress_stmt SELECT g FROM generate_series(1, 100) g;
SELECT count(*) FROM regress_stmt WHERE id > 41;
SELECT count(*) FROM regress_stmt WHERE id > 42;
SELECT count(*) FROM regress_stmt WHERE id > 43;
SELECT count(*) FROM regress_stmt WHERE id > 44;
SELECT count(*) FROM regress_stmt WHERE id > 45;

-- The families of the installed extension version (1.8 in PostgreSQL 13, 1.9
-- in 14, 1.10 in 15 and 16, 1.11 in 17, 1.12 in 18, 1.13 in 19): a row here is a family
-- missing, unexpected or of the wrong type.
CREATE TEMP TABLE stmt_families(family text, type text, since int);
INSERT INTO stmt_families VALUES
  ('pg_stat_statements_calls_total', 'counter', 0), ('pg_stat_statements_rows_total', 'counter', 0),
  ('pg_stat_statements_seconds_total', 'counter', 0),
  ('pg_stat_statements_block_read_seconds_total', 'counter', 0),
  ('pg_stat_statements_block_write_seconds_total', 'counter', 0),
  ('pg_stat_statements_mean_exec_time_seconds', 'gauge', 0),
  ('pg_stat_statements_max_exec_time_seconds', 'gauge', 0),
  ('pg_stat_statements_stddev_exec_time_seconds', 'gauge', 0),
  ('pg_stat_statements_cache_hit_ratio', 'gauge', 0),
  ('pg_stat_statements_shared_blks_hit_total', 'counter', 0),
  ('pg_stat_statements_shared_blks_read_total', 'counter', 0),
  ('pg_stat_statements_shared_blks_dirtied_total', 'counter', 0),
  ('pg_stat_statements_shared_blks_written_total', 'counter', 0),
  ('pg_stat_statements_local_blks_hit_total', 'counter', 0),
  ('pg_stat_statements_local_blks_read_total', 'counter', 0),
  ('pg_stat_statements_local_blks_dirtied_total', 'counter', 0),
  ('pg_stat_statements_local_blks_written_total', 'counter', 0),
  ('pg_stat_statements_temp_blks_read_total', 'counter', 0),
  ('pg_stat_statements_temp_blks_written_total', 'counter', 0),
  ('pg_stat_statements_plan_seconds_total', 'counter', 108),
  ('pg_stat_statements_wal_records_total', 'counter', 108),
  ('pg_stat_statements_wal_fpi_total', 'counter', 108),
  ('pg_stat_statements_wal_bytes_total', 'counter', 108),
  ('pg_stat_statements_info_dealloc_total', 'counter', 109),
  ('pg_stat_statements_temp_block_read_seconds_total', 'counter', 110),
  ('pg_stat_statements_temp_block_write_seconds_total', 'counter', 110),
  ('pg_stat_statements_jit_functions_total', 'counter', 110),
  ('pg_stat_statements_jit_seconds_total', 'counter', 110),
  ('pg_stat_statements_local_block_read_seconds_total', 'counter', 111),
  ('pg_stat_statements_local_block_write_seconds_total', 'counter', 111),
  ('pg_stat_statements_wal_buffers_full_total', 'counter', 112),
  ('pg_stat_statements_parallel_workers_to_launch_total', 'counter', 112),
  ('pg_stat_statements_parallel_workers_launched_total', 'counter', 112),
  ('pg_stat_statements_generic_plan_calls_total', 'counter', 113),
  ('pg_stat_statements_custom_plan_calls_total', 'counter', 113);
CREATE TEMP TABLE stmt_version AS
SELECT split_part(extversion, '.', 1)::int * 100 + split_part(extversion, '.', 2)::int AS v
FROM pg_extension WHERE extname = 'pg_stat_statements';
SELECT coalesce(e.family, f.family) AS family, e.type AS expected, f.type AS exported
FROM (SELECT family, type FROM stmt_families WHERE since <= (SELECT v FROM stmt_version)) e
FULL JOIN (SELECT * FROM regress.families(ARRAY['statements']) WHERE family LIKE 'pg_stat_statements%') f
  USING (family)
WHERE e.type IS DISTINCT FROM f.type ORDER BY 1;
SELECT metric, labels FROM regress.shape(ARRAY['statements']) WHERE metric NOT LIKE 'pg_stat_statements%';
-- Every family of statements (all but the info one) is labelled {datname, queryid, user}.
SELECT labels, count(*) > 20 AS families FROM regress.shape(ARRAY['statements'])
WHERE metric LIKE 'pg_stat_statements%' AND metric <> 'pg_stat_statements_info_dealloc_total' GROUP BY 1;

-- No entry was evicted since the extension was created.
-- (pg_stat_statements_info from 1.9)
SELECT count(*) = ((SELECT v FROM stmt_version) >= 109)::int AS one_series,
       coalesce(bool_and(labels = '' AND value = '0'), true) AS none_evicted
FROM regress.samples(ARRAY['statements']) WHERE metric = 'pg_stat_statements_info_dealloc_total';

-- Our statement: 5 calls, 5 rows, labelled with this user and database.
CREATE TEMP TABLE our AS
SELECT queryid::text AS queryid FROM "regress Stat".pg_stat_statements
WHERE query = 'SELECT count(*) FROM regress_stmt WHERE id > $1';
SELECT count(*) FROM our;
SELECT metric, value, "user" = current_user AS our_user, datname = current_database() AS our_db
FROM regress_stmt_samples() JOIN our USING (queryid)
WHERE metric IN ('pg_stat_statements_calls_total', 'pg_stat_statements_rows_total') ORDER BY 1;
SELECT metric, value::float8 > 0 AS positive
FROM regress_stmt_samples() JOIN our USING (queryid)
WHERE metric IN ('pg_stat_statements_seconds_total', 'pg_stat_statements_mean_exec_time_seconds',
                 'pg_stat_statements_max_exec_time_seconds', 'pg_stat_statements_shared_blks_hit_total')
ORDER BY 1;
-- Its mean is total / calls; stddev and the block times are never negative.
SELECT abs(m.value::float8 - t.value::float8 / 5) < 1e-9 AS mean_is_total_over_calls
FROM regress_stmt_samples() m JOIN regress_stmt_samples() t USING (queryid) JOIN our USING (queryid)
WHERE m.metric = 'pg_stat_statements_mean_exec_time_seconds' AND t.metric = 'pg_stat_statements_seconds_total';
SELECT count(*) AS negative FROM regress_stmt_samples() WHERE value::float8 < 0;
-- A statement that touched shared blocks has a hit ratio within [0, 1].
SELECT value::float8 BETWEEN 0 AND 1 AS ratio FROM regress_stmt_samples() JOIN our USING (queryid)
WHERE metric = 'pg_stat_statements_cache_hit_ratio';

-- The query text is never exported, not even in a label.
SELECT count(*) AS text_leaks FROM regexp_split_to_table(pgexporter.metrics(ARRAY['statements']), E'\n') AS l
WHERE l LIKE '%regress_stmt%' OR l LIKE '%query=%';

-- Nested and top-level runs of one statement are two pg_stat_statements
-- entries with one queryid: exported as one series, their sum.
SET pg_stat_statements.track = 'all';
CREATE FUNCTION regress_stmt_nested() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM regress_stmt WHERE id > 41;
  RETURN n;
END $$;
SELECT regress_stmt_nested();
SELECT regress_stmt_nested();
RESET pg_stat_statements.track;
-- (one entry before 1.9, which has no toplevel key)
SELECT count(*) = CASE WHEN (SELECT v FROM stmt_version) >= 109 THEN 2 ELSE 1 END AS entries, sum(s.calls) AS calls
FROM "regress Stat".pg_stat_statements s JOIN our ON s.queryid::text = our.queryid;
SELECT metric, value FROM regress_stmt_samples() JOIN our USING (queryid)
WHERE metric IN ('pg_stat_statements_calls_total', 'pg_stat_statements_rows_total') ORDER BY 1;
-- No label set appears twice in any family.
SELECT metric, "user", datname, queryid, count(*) FROM regress_stmt_samples()
GROUP BY 1, 2, 3, 4 HAVING count(*) > 1;

-- Top N: pg_exporter.statements_limit bounds the series per family.
SELECT count(*) > 3 AS more_than_three FROM "regress Stat".pg_stat_statements;
ALTER SYSTEM SET pg_exporter.statements_limit = 3;
SELECT pg_reload_conf();
\set ECHO none
\set wait_cond 'current_setting(''pg_exporter.statements_limit'') = ''3'''
\set wait_tries 0
\ir sql/include/wait_until.psql
\set ECHO all
SHOW pg_exporter.statements_limit;
SELECT metric, count(*) FROM regress_stmt_samples()
WHERE metric IN ('pg_stat_statements_calls_total', 'pg_stat_statements_seconds_total') GROUP BY 1 ORDER BY 1;
ALTER SYSTEM RESET pg_exporter.statements_limit;
SELECT pg_reload_conf();
\set ECHO none
\set wait_cond 'current_setting(''pg_exporter.statements_limit'') = ''100'''
\set wait_tries 0
\ir sql/include/wait_until.psql
\set ECHO all
SHOW pg_exporter.statements_limit;

-- Opt-in query texts (postgres_exporter's include_query): the first N
-- characters, one series per queryid.
ALTER SYSTEM SET pg_exporter.statements_query_length = 20;
SELECT pg_reload_conf();
\set ECHO none
\set wait_cond 'current_setting(''pg_exporter.statements_query_length'') = ''20'''
\set wait_tries 0
\ir sql/include/wait_until.psql
\set ECHO all
SHOW pg_exporter.statements_query_length;
SELECT * FROM regress.families(ARRAY['statements']) WHERE family = 'pg_stat_statements_query_id';
SELECT m[2] AS query
FROM regexp_split_to_table(pgexporter.metrics(ARRAY['statements']), E'\n') AS line,
     regexp_match(line, '^pg_stat_statements_query_id\{queryid="([^"]*)",query="((?:[^"\\]|\\.)*)"\} 1$') AS m
JOIN our ON our.queryid = m[1];
SELECT count(*) = count(DISTINCT m[1]) AS one_per_queryid, count(*) > 1 AS several
FROM regexp_split_to_table(pgexporter.metrics(ARRAY['statements']), E'\n') AS line,
     regexp_match(line, '^pg_stat_statements_query_id\{queryid="([^"]*)",query="((?:[^"\\]|\\.)*)"\} 1$') AS m
WHERE m IS NOT NULL;
ALTER SYSTEM RESET pg_exporter.statements_query_length;
SELECT pg_reload_conf();
\set ECHO none
\set wait_cond 'current_setting(''pg_exporter.statements_query_length'') = ''0'''
\set wait_tries 0
\ir sql/include/wait_until.psql
\set ECHO all
SELECT count(*) AS query_series FROM regress.samples(ARRAY['statements']) WHERE metric = 'pg_stat_statements_query_id';

-- Dropped again: success with no samples.
DROP EXTENSION pg_stat_statements;
SELECT count(*) AS samples FROM regress.samples(ARRAY['statements']) WHERE metric LIKE 'pg_stat_statements%';
SELECT value FROM regress.samples(ARRAY['statements']) WHERE metric = 'pg_exporter_collector_success';

DROP FUNCTION regress_stmt_nested(), regress_stmt_samples();
DROP TABLE regress_stmt;
DROP SCHEMA "regress Stat";
