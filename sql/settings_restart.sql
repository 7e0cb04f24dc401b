-- pg_settings_pending_restart: settings changed in the configuration files
-- that only a restart applies.
SELECT count(*) AS pending FROM regress.samples(ARRAY['settings']) WHERE metric = 'pg_settings_pending_restart';
SELECT * FROM regress.families(ARRAY['settings']) WHERE family = 'pg_settings_pending_restart';

ALTER SYSTEM SET max_prepared_transactions = 7;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
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
SELECT pg_sleep(0.5);
SELECT count(*) AS pending FROM regress.samples(ARRAY['settings']) WHERE metric = 'pg_settings_pending_restart';
