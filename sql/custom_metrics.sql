-- User-defined metrics: validation at definition time, isolation at scrape time.
CREATE SCHEMA app;
CREATE TABLE app.jobs (id serial PRIMARY KEY, queue text NOT NULL, created_at timestamptz NOT NULL,
                       done_at timestamptz);
INSERT INTO app.jobs (queue, created_at, done_at) VALUES
  ('mail', now() - interval '10 minutes', NULL),
  ('mail', now() - interval '5 minutes', NULL),
  ('billing', now() - interval '1 minute', NULL),
  ('billing', now() - interval '2 minutes', now());
CREATE SEQUENCE app.orders_id_seq;
SELECT nextval('app.orders_id_seq') FROM generate_series(1, 42) OFFSET 41;

-- A queue backlog (gauges by label) and a business counter.
INSERT INTO pgexporter.custom_metrics (name, query, labels, gauges, help) VALUES
  ('app_queue', $$SELECT queue, count(*) AS backlog,
                         extract(epoch FROM now() - min(created_at)) AS oldest_seconds
                  FROM app.jobs WHERE done_at IS NULL GROUP BY queue$$,
   '{queue}', '{backlog,oldest_seconds}', 'Unfinished jobs per queue');
INSERT INTO pgexporter.custom_metrics (name, query, counters) VALUES
  ('app_orders', 'SELECT last_value AS created_total FROM app.orders_id_seq', '{created_total}');

SELECT * FROM regress.families(ARRAY['custom']) ORDER BY 1;
SELECT metric, labels, value FROM regress.samples(ARRAY['custom'])
WHERE metric LIKE 'app_%' AND metric <> 'app_queue_oldest_seconds' ORDER BY 1, 2, 3;
SELECT count(*) AS oldest_samples FROM regress.samples(ARRAY['custom'])
WHERE metric = 'app_queue_oldest_seconds' AND value::float8 >= 60;
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['custom']), E'\n') AS line
WHERE line LIKE 'pg_exporter_collector_success%' ORDER BY 1;
-- The exposition line itself, with the HELP text.
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['custom']), E'\n') AS line
WHERE line LIKE '%app_queue_backlog%' ORDER BY 1;

-- Definition errors: rejected with a message that names the problem.
\set VERBOSITY default
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('bad name', 'SELECT 1 AS x', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('pg_exporter_x', 'SELECT 1 AS x', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query) VALUES ('no_values', 'SELECT 1 AS x');
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('bad_col', 'SELECT 1 AS "a-b"', '{a-b}');
INSERT INTO pgexporter.custom_metrics (name, query, labels, gauges) VALUES ('twice', 'SELECT 1 AS x', '{x}', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('missing', 'SELECT 1 AS x', '{y}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('syntax', 'SELEC 1 AS x', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('two', 'SELECT 1 AS x; SELECT 2 AS x', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges)
VALUES ('writes', 'WITH d AS (DELETE FROM app.jobs RETURNING id) SELECT count(*) AS x FROM d', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('nosuch', 'SELECT x FROM app.nosuch', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges, timeout)
VALUES ('slow', 'SELECT 1 AS x', '{x}', interval '2 hours');
UPDATE pgexporter.custom_metrics SET gauges = '{nope}' WHERE name = 'app_queue';
\set VERBOSITY terse
-- Nothing was planned, let alone run: the jobs are all still there.
SELECT count(*) AS jobs FROM app.jobs;

-- Scrape-time failures cost only that definition. The trigger is bypassed
-- (as a superuser could) to store definitions that break when they run.
ALTER TABLE pgexporter.custom_metrics DISABLE TRIGGER custom_metrics_validate;
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES
  ('zz_div', 'SELECT 1 / (count(*) - count(*)) AS x FROM app.jobs', '{x}'),
  ('zz_text', $$SELECT 'abc' AS x$$, '{x}'),
  ('zz_dup', $$SELECT 'a' AS l, 1 AS x UNION ALL SELECT 'a', 2$$, '{x}'),
  ('zz_clash', 'SELECT 1 AS up', '{up}'),
  ('zz_badlabel', 'SELECT 1 AS x', '{x}'),
  ('zz_write', 'INSERT INTO app.jobs (queue, created_at) VALUES (''x'', now()) RETURNING id', '{id}');
UPDATE pgexporter.custom_metrics SET labels = '{l}' WHERE name = 'zz_dup';
UPDATE pgexporter.custom_metrics SET labels = '{"bad label"}' WHERE name = 'zz_badlabel';
UPDATE pgexporter.custom_metrics SET name = 'pg' WHERE name = 'zz_clash';
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES
  ('zz_null', 'SELECT NULL::int AS x, 1 AS y', '{x,y}'),
  ('zz_many', 'SELECT g AS l, 1 AS x FROM generate_series(1, 10001) g', '{x}');
UPDATE pgexporter.custom_metrics SET labels = '{l}' WHERE name = 'zz_many';
ALTER TABLE pgexporter.custom_metrics ENABLE TRIGGER custom_metrics_validate;
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['server', 'custom']), E'\n') AS line
WHERE line LIKE 'pg_exporter_collector_success%' ORDER BY 1;
-- The good definitions and the built-in pg_up are still served; NULL is absent.
SELECT metric, labels, value FROM regress.samples(ARRAY['server', 'custom'])
WHERE metric IN ('pg_up', 'app_queue_backlog', 'app_orders_created_total', 'zz_null_x', 'zz_null_y')
ORDER BY 1, 2;
SELECT count(*) AS jobs FROM app.jobs;

-- Disabled definitions are not run.
UPDATE pgexporter.custom_metrics SET enabled = false WHERE name LIKE 'zz%' OR name = 'pg';
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['custom']), E'\n') AS line
WHERE line LIKE 'pg_exporter_collector_success%' ORDER BY 1;

DROP SCHEMA app CASCADE;
DELETE FROM pgexporter.custom_metrics;
