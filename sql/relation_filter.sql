-- pg_exporter.relations_*: which tables get per-table series (tables,
-- indexes, relation_sizes collectors), and the count of those left out.
CREATE SCHEMA regress_filter;
-- busy: many rows read and written; big: large after VACUUM (relpages), few
-- reads; quiet and quiet_old: small and untouched after their insert.
CREATE TABLE regress_filter.busy (id int PRIMARY KEY) WITH (autovacuum_enabled = off);
CREATE TABLE regress_filter.big (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = off);
CREATE TABLE regress_filter.quiet (id int PRIMARY KEY) WITH (autovacuum_enabled = off);
CREATE TABLE regress_filter.quiet_old (v int) WITH (autovacuum_enabled = off);
INSERT INTO regress_filter.busy SELECT g FROM generate_series(1, 500) g;
INSERT INTO regress_filter.big SELECT g, repeat('x', 500) FROM generate_series(1, 300) g;
INSERT INTO regress_filter.quiet VALUES (1);
INSERT INTO regress_filter.quiet_old VALUES (1), (1);
-- An invalid index on quiet_old: counted in pg_index_invalid_count even when
-- quiet_old itself is left out.
CREATE UNIQUE INDEX CONCURRENTLY quiet_old_v ON regress_filter.quiet_old (v);
SELECT count(*) FROM regress_filter.busy;
SELECT count(*) FROM regress_filter.busy;
VACUUM ANALYZE regress_filter.big;
SELECT regress.flush_stats();
SELECT regress.fresh_stats();

-- Tables of this schema with per-table series, per collector family.
CREATE FUNCTION regress.filtered(family text, collectors text[]) RETURNS text
LANGUAGE sql AS $$
  SELECT coalesce(string_agg(DISTINCT substring(line from 'relname="([^"]*)"'), ','), '(none)')
  FROM regexp_split_to_table(pgexporter.metrics(collectors), E'\n') AS line
  WHERE line LIKE family || '{%' AND line LIKE '%schemaname="regress_filter"%'
$$;
CREATE FUNCTION regress.selection() RETURNS TABLE(tables text, indexes text, sizes text, index_sizes text)
LANGUAGE sql AS $$
  SELECT regress.filtered('pg_stat_user_tables_seq_scan', ARRAY['tables']),
         regress.filtered('pg_index_scans_total', ARRAY['indexes']),
         regress.filtered('pg_stat_user_tables_table_size_bytes', ARRAY['relation_sizes']),
         regress.filtered('pg_index_size_bytes', ARRAY['relation_sizes'])
$$;
CREATE FUNCTION regress.dropped() RETURNS TABLE(reason text, value text)
LANGUAGE sql AS $$
  SELECT substring(labels from 'reason="([^"]*)"'), value FROM (
    SELECT m[1] AS labels, m[2] AS value
    FROM regexp_split_to_table(pgexporter.metrics(ARRAY['tables']), E'\n') AS line,
         regexp_match(line, '^pg_exporter_relations_dropped\{(.*)\} (\S+)$') AS m
    WHERE m IS NOT NULL) s
  ORDER BY 1
$$;
CREATE FUNCTION regress.invalid_indexes() RETURNS text
LANGUAGE sql AS $$
  SELECT value FROM regress.samples(ARRAY['indexes']) WHERE metric = 'pg_index_invalid_count'
$$;
CREATE TEMP TABLE unfiltered AS SELECT regress.invalid_indexes() AS invalid;

-- Defaults: every table (the default limit is far above this database).
SHOW pg_exporter.relations_limit;
SELECT * FROM regress.selection();
SELECT * FROM regress.dropped();

-- Include and exclude patterns on schema.table.
SET pg_exporter.relations_include = '^regress_filter\.';
SET pg_exporter.relations_exclude = '_old$';
SELECT * FROM regress.selection();
SELECT reason, value::int > 0 AS some FROM regress.dropped();
-- Left out, but its invalid index still counts.
SELECT regress.invalid_indexes() = invalid AS same_invalid_count FROM unfiltered;

-- Minimum size (pg_class.relpages): only big has pages counted.
RESET pg_exporter.relations_exclude;
SET pg_exporter.relations_min_size = '64kB';
SELECT * FROM regress.selection();
SELECT * FROM regress.dropped() WHERE reason <> 'pattern';

-- Top N by activity (rows read and written): busy, then big.
RESET pg_exporter.relations_min_size;
SET pg_exporter.relations_limit = 2;
SELECT * FROM regress.selection();
SELECT * FROM regress.dropped() WHERE reason <> 'pattern';
SELECT value FROM regress.samples(ARRAY['tables']) WHERE metric = 'pg_exporter_relations_exported';

-- Bad values are refused when set, never at scrape time.
SET pg_exporter.relations_include = '(unclosed';
SET pg_exporter.relations_exclude = '[z-a]';
SET pg_exporter.relations_limit = -1;
-- The selection query holds the user's pattern in a literal only.
SET pg_exporter.relations_include = $$' OR true --$$;
SELECT * FROM regress.selection();
RESET ALL;
-- Every collector succeeded throughout.
SELECT labels, value FROM regress.samples(ARRAY['tables', 'indexes', 'relation_sizes'])
WHERE metric = 'pg_exporter_collector_success' ORDER BY 1;
DROP SCHEMA regress_filter CASCADE;
