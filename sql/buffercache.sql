-- The buffercache collector (off by default; pg_buffercache is optional).
SELECT name, enabled, default_enabled FROM pgexporter.collectors WHERE name = 'buffercache';

-- Not installed in this database: success, no samples.
SELECT count(*) AS samples FROM regress.samples(ARRAY['buffercache']) WHERE metric LIKE 'pg_buffercache%';
SELECT value FROM regress.samples(ARRAY['buffercache']) WHERE metric = 'pg_exporter_collector_success';

CREATE SCHEMA "regress Buf";
CREATE EXTENSION pg_buffercache SCHEMA "regress Buf";
SELECT * FROM regress.families(ARRAY['buffercache']) ORDER BY 1;
SELECT * FROM regress.shape(ARRAY['buffercache']);

-- Used + unused = shared_buffers; some used (the catalogs), dirty and pinned
-- within the used ones, usage counts between 0 and 5.
CREATE TEMP TABLE buf AS
SELECT metric, value::float8 AS v FROM regress.samples(ARRAY['buffercache']) WHERE metric LIKE 'pg_buffercache%';
SELECT (SELECT sum(v) FROM buf WHERE metric IN ('pg_buffercache_summary_buffers_used',
                                                'pg_buffercache_summary_buffers_unused'))
       = (SELECT setting::float8 FROM pg_settings WHERE name = 'shared_buffers') AS all_buffers;
SELECT (SELECT v FROM buf WHERE metric = 'pg_buffercache_summary_buffers_used') > 0 AS some_used,
       (SELECT v FROM buf WHERE metric = 'pg_buffercache_summary_buffers_dirty')
         BETWEEN 0 AND (SELECT v FROM buf WHERE metric = 'pg_buffercache_summary_buffers_used') AS dirty_ok,
       (SELECT v FROM buf WHERE metric = 'pg_buffercache_summary_buffers_pinned')
         BETWEEN 0 AND (SELECT v FROM buf WHERE metric = 'pg_buffercache_summary_buffers_used') AS pinned_ok,
       (SELECT v FROM buf WHERE metric = 'pg_buffercache_summary_usagecount_avg') BETWEEN 0 AND 5 AS usage_ok;
-- A table just written is dirty in shared buffers.
CREATE TABLE regress_buf AS SELECT g FROM generate_series(1, 10000) g;
SELECT value::float8 > 0 AS some_dirty FROM regress.samples(ARRAY['buffercache'])
WHERE metric = 'pg_buffercache_summary_buffers_dirty';

DROP EXTENSION pg_buffercache;
SELECT count(*) AS samples FROM regress.samples(ARRAY['buffercache']) WHERE metric LIKE 'pg_buffercache%';
SELECT value FROM regress.samples(ARRAY['buffercache']) WHERE metric = 'pg_exporter_collector_success';
DROP TABLE regress_buf;
DROP SCHEMA "regress Buf";
