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
SELECT "regress Stat".pg_stat_statements_reset();
CREATE TABLE regress_stmt (id int);
INSERT INTO regress_stmt SELECT g FROM generate_series(1, 100) g;
SELECT count(*) FROM regress_stmt WHERE id > 41;
SELECT count(*) FROM regress_stmt WHERE id > 42;
SELECT count(*) FROM regress_stmt WHERE id > 43;
SELECT count(*) FROM regress_stmt WHERE id > 44;
SELECT count(*) FROM regress_stmt WHERE id > 45;

SELECT * FROM regress.families(ARRAY['statements']) ORDER BY 1;
SELECT * FROM regress.shape(ARRAY['statements']);

-- No entry was evicted since the extension was created.
SELECT metric, labels, value FROM regress.samples(ARRAY['statements'])
WHERE metric = 'pg_stat_statements_info_dealloc_total';

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
SELECT s.toplevel, s.calls FROM "regress Stat".pg_stat_statements s JOIN our ON s.queryid::text = our.queryid
ORDER BY s.toplevel;
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
