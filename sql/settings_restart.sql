-- pg_settings_pending_restart: settings changed in the configuration files
-- that only a restart applies.
SELECT count(*) AS pending FROM regress.samples(ARRAY['settings']) WHERE metric = 'pg_settings_pending_restart';
SELECT * FROM regress.families(ARRAY['settings']) WHERE family = 'pg_settings_pending_restart';

ALTER SYSTEM SET max_prepared_transactions = 7;
SELECT pg_reload_conf();
\set ECHO none
\set wait_cond 'EXISTS (SELECT FROM pg_settings WHERE name = ''max_prepared_transactions'' AND pending_restart)'
\set wait_tries 0
\ir sql/include/wait_until.psql
\set ECHO all
SELECT name FROM pg_settings WHERE pending_restart;
SELECT metric, labels, value FROM regress.samples(ARRAY['settings']) WHERE metric = 'pg_settings_pending_restart';
SELECT line FROM regexp_split_to_table(pgexporter.metrics(ARRAY['settings']), E'\n') AS line
WHERE line LIKE 'pg_settings_pending_restart%';
-- The running value is unchanged (and booleans are 0/1, as postgres_exporter exports them).
SELECT metric, value FROM regress.samples(ARRAY['settings'])
WHERE metric IN ('pg_settings_max_prepared_transactions', 'pg_settings_fsync', 'pg_settings_ssl',
                 'pg_settings_autovacuum') ORDER BY 1;

ALTER SYSTEM RESET max_prepared_transactions;
SELECT pg_reload_conf();
\set ECHO none
\set wait_cond 'NOT EXISTS (SELECT FROM pg_settings WHERE pending_restart)'
\set wait_tries 0
\ir sql/include/wait_until.psql
\set ECHO all
SELECT count(*) AS pending FROM regress.samples(ARRAY['settings']) WHERE metric = 'pg_settings_pending_restart';

-- Values are the configured ones (reset_val), not this session's SETs.
SET work_mem = '77MB';
SET lock_timeout = '3s';
SELECT metric, value::float8 = (SELECT reset_val::float8 FROM pg_settings WHERE name = 'work_mem') * 1024
         AS configured_work_mem
FROM regress.samples(ARRAY['settings']) WHERE metric = 'pg_settings_work_mem_bytes';
SELECT metric, value FROM regress.samples(ARRAY['settings'])
WHERE metric IN ('pg_settings_lock_timeout_seconds', 'pg_settings_transaction_read_only') ORDER BY 1;
BEGIN READ ONLY;
SELECT metric, value FROM regress.samples(ARRAY['settings'])
WHERE metric = 'pg_settings_transaction_read_only';
COMMIT;
RESET work_mem;
RESET lock_timeout;
