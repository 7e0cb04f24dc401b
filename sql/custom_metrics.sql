-- User-defined metrics: validation at definition time, isolation at scrape
-- time, each definition run as the role that owns it.
CREATE ROLE regress_app;
CREATE ROLE regress_other;
CREATE SCHEMA app AUTHORIZATION regress_app;
-- The grant model: the extension owner lets a role define metrics.
GRANT USAGE ON SCHEMA pgexporter TO regress_app, regress_other;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgexporter.custom_metrics TO regress_app, regress_other;

SET ROLE regress_app;
CREATE TABLE app.jobs (id serial PRIMARY KEY, queue text NOT NULL, created_at timestamptz NOT NULL,
                       done_at timestamptz);
INSERT INTO app.jobs (queue, created_at, done_at) VALUES
  ('mail', now() - interval '10 minutes', NULL),
  ('mail', now() - interval '5 minutes', NULL),
  ('billing', now() - interval '1 minute', NULL),
  ('billing', now() - interval '2 minutes', now());
CREATE SEQUENCE app.orders_id_seq;
SELECT nextval('app.orders_id_seq') FROM generate_series(1, 42) OFFSET 41;

-- A queue backlog (gauges by label) and a business counter, owned by the
-- role that inserts them.
INSERT INTO pgexporter.custom_metrics (name, query, labels, gauges, help) VALUES
  ('app_queue', $$SELECT queue, count(*) AS backlog,
                         extract(epoch FROM now() - min(created_at)) AS oldest_seconds
                  FROM app.jobs WHERE done_at IS NULL GROUP BY queue$$,
   '{queue}', '{backlog,oldest_seconds}', 'Unfinished jobs per queue');
INSERT INTO pgexporter.custom_metrics (name, query, counters) VALUES
  ('app_orders', 'SELECT last_value AS created_total FROM app.orders_id_seq', '{created_total}');
SELECT name, owner FROM pgexporter.custom_metrics ORDER BY 1;
RESET ROLE;

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

-- Ownership: a definer owns what it inserts, cannot define for another role
-- or give its definition away, and sees and changes only its own rows.
\set VERBOSITY default
SET ROLE regress_app;
INSERT INTO pgexporter.custom_metrics (name, query, gauges, owner)
VALUES ('as_other', 'SELECT 1 AS x', '{x}', 'regress_other');
UPDATE pgexporter.custom_metrics SET owner = 'regress_other' WHERE name = 'app_orders';
RESET ROLE;
SET ROLE regress_other;
SELECT count(*) AS visible FROM pgexporter.custom_metrics;
UPDATE pgexporter.custom_metrics SET query = 'SELECT 0 AS created_total' WHERE name = 'app_orders';
DELETE FROM pgexporter.custom_metrics WHERE name = 'app_queue';
-- Its query is planned with its own privileges: it may not read app.jobs.
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('peek', 'SELECT count(*) AS n FROM app.jobs', '{n}');
RESET ROLE;
-- Planning as a role needs that role's privileges (constant folding runs
-- the query's immutable functions).
SET ROLE regress_other;
SELECT pgexporter.query_columns('SELECT 1 AS x', 'regress_app');
SELECT pgexporter.query_columns('SELECT 1 AS x');
RESET ROLE;
SELECT name, owner FROM pgexporter.custom_metrics ORDER BY 1;

-- Definition errors: rejected with a message that names the problem.
SET ROLE regress_app;
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
INSERT INTO pgexporter.custom_metrics (name, query, gauges)
VALUES ('locks', 'SELECT id AS x FROM app.jobs FOR UPDATE', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges)
VALUES ('into', 'SELECT 1 AS x INTO app.copy', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('nosuch', 'SELECT x FROM app.nosuch', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges, timeout)
VALUES ('slow', 'SELECT 1 AS x', '{x}', interval '2 hours');
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES (repeat('n', 101), 'SELECT 1 AS x', '{x}');
UPDATE pgexporter.custom_metrics SET gauges = '{nope}' WHERE name = 'app_queue';
RESET ROLE;
\set VERBOSITY terse
-- Nothing was planned, let alone run: the jobs are all still there.
SELECT count(*) AS jobs FROM app.jobs;

-- A superuser's definition is stored, but not run unless
-- pg_exporter.superuser_metrics allows it (a setting of the file, not of a
-- session).
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('su_metric', 'SELECT 1 AS x', '{x}');
SHOW pg_exporter.superuser_metrics;
SET pg_exporter.superuser_metrics = on;
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['custom']), E'\n') AS line
WHERE line LIKE 'pg_exporter_collector_success%su_metric%';
DELETE FROM pgexporter.custom_metrics WHERE name = 'su_metric';

-- From SQL, a definition runs only for a caller that has its owner's
-- privileges: a monitoring role without them gets it reported, not run.
CREATE ROLE regress_watch IN ROLE pg_monitor;
SET ROLE regress_watch;
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['custom']), E'\n') AS line
WHERE line LIKE 'pg_exporter_collector_success%' ORDER BY 1;
RESET ROLE;
DROP ROLE regress_watch;

-- Scrape-time failures cost only that definition. The trigger and the name
-- constraint are bypassed (as a superuser could) to store definitions that
-- break when they run.
ALTER TABLE pgexporter.custom_metrics DISABLE TRIGGER custom_metrics_validate;
ALTER TABLE pgexporter.custom_metrics DROP CONSTRAINT custom_metrics_name_valid;
INSERT INTO pgexporter.custom_metrics (name, query, gauges, owner) VALUES
  ('zz_div', 'SELECT 1 / (count(*) - count(*)) AS x FROM app.jobs', '{x}', 'regress_app'),
  ('zz_text', $$SELECT 'abc' AS x$$, '{x}', 'regress_app'),
  ('zz_dup', $$SELECT 'a' AS l, 1 AS x UNION ALL SELECT 'a', 2$$, '{x}', 'regress_app'),
  ('zz_clash', 'SELECT 1 AS up', '{up}', 'regress_app'),
  ('zz_badlabel', 'SELECT 1 AS x', '{x}', 'regress_app'),
  ('zz_write', 'INSERT INTO app.jobs (queue, created_at) VALUES (''x'', now()) RETURNING id', '{id}', 'regress_app'),
  ('zz_two', 'SELECT 1 AS x; INSERT INTO app.jobs (queue, created_at) VALUES (''two'', now())', '{x}', 'regress_app'),
  ('zz_sneaky_write', 'SELECT nextval(''app.orders_id_seq'') AS x', '{x}', 'regress_app'),
  ('zz_denied', 'SELECT count(*) AS x FROM app.jobs', '{x}', 'regress_other'),
  ('zz_superuser', 'SELECT 1 AS x', '{x}', 10::oid::regrole),
  ('pg_exporter_zz', 'SELECT 1 AS x', '{x}', 'regress_app');
UPDATE pgexporter.custom_metrics SET labels = '{l}' WHERE name = 'zz_dup';
UPDATE pgexporter.custom_metrics SET labels = '{"bad label"}' WHERE name = 'zz_badlabel';
UPDATE pgexporter.custom_metrics SET name = 'pg' WHERE name = 'zz_clash';
INSERT INTO pgexporter.custom_metrics (name, query, gauges, owner) VALUES
  ('zz_null', 'SELECT NULL::int AS x, 1 AS y', '{x,y}', 'regress_app'),
  ('zz_many', 'SELECT g AS l, 1 AS x FROM generate_series(1, 10001) g', '{x}', 'regress_app');
UPDATE pgexporter.custom_metrics SET labels = '{l}' WHERE name = 'zz_many';
ALTER TABLE pgexporter.custom_metrics ADD CONSTRAINT custom_metrics_name_valid
    CHECK (name ~ '^[a-zA-Z_:][a-zA-Z0-9_:]*$' AND name !~ '^pg_exporter_' AND length(name) <= 100) NOT VALID;
ALTER TABLE pgexporter.custom_metrics ENABLE TRIGGER custom_metrics_validate;
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['server', 'custom']), E'\n') AS line
WHERE line LIKE 'pg_exporter_collector_success%' ORDER BY 1;
-- The good definitions and the built-in pg_up are still served; NULL is absent.
SELECT metric, labels, value FROM regress.samples(ARRAY['server', 'custom'])
WHERE metric IN ('pg_up', 'app_queue_backlog', 'app_orders_created_total', 'zz_null_x', 'zz_null_y')
ORDER BY 1, 2;
-- Nothing was written: no job inserted, the sequence did not move.
SELECT count(*) AS jobs FROM app.jobs;
SELECT last_value FROM app.orders_id_seq;

-- Disabled definitions are not run (the constraint is back for written rows).
DELETE FROM pgexporter.custom_metrics WHERE name = 'pg_exporter_zz';
UPDATE pgexporter.custom_metrics SET enabled = false WHERE name LIKE 'zz%' OR name = 'pg';
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['custom']), E'\n') AS line
WHERE line LIKE 'pg_exporter_collector_success%' ORDER BY 1;

DELETE FROM pgexporter.custom_metrics;
DROP SCHEMA app CASCADE;
REVOKE ALL ON pgexporter.custom_metrics FROM regress_app, regress_other;
REVOKE ALL ON SCHEMA pgexporter FROM regress_app, regress_other;
DROP ROLE regress_app, regress_other;
