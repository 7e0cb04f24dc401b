-- Settings are validated when set: a bad value never reaches a scrape.
SHOW pg_exporter.port;
SHOW pg_exporter.listen_addresses;
SHOW pg_exporter.database;
SHOW pg_exporter.collectors;
SHOW pg_exporter.statement_timeout;
SHOW pg_exporter.lock_timeout;
SHOW pg_exporter.scrape_timeout;
SHOW pg_exporter.cache_ttl;
SHOW pg_exporter.size_ttl;
SHOW pg_exporter.max_clients;
SHOW pg_exporter.client_timeout;

-- Reloadable settings cannot be changed in a session.
SET pg_exporter.port = 9999;

-- ALTER SYSTEM runs the same checks as a reload.
ALTER SYSTEM SET pg_exporter.port = 70000;
ALTER SYSTEM SET pg_exporter.port = -1;
ALTER SYSTEM SET pg_exporter.listen_addresses = '';
ALTER SYSTEM SET pg_exporter.listen_addresses = 'localhost; rm -rf /';
ALTER SYSTEM SET pg_exporter.database = '';
ALTER SYSTEM SET pg_exporter.collectors = 'database, no_such_thing';
ALTER SYSTEM SET pg_exporter.statement_timeout = 0;
ALTER SYSTEM SET pg_exporter.max_clients = 0;
ALTER SYSTEM SET pg_exporter.cache_ttl = '-1s';
ALTER SYSTEM SET pg_exporter.size_ttl = '2h';
ALTER SYSTEM SET pg_exporter.unknown_setting = 1;

-- Valid values are accepted (and then reset).
ALTER SYSTEM SET pg_exporter.collectors = 'default, -locks';
ALTER SYSTEM SET pg_exporter.listen_addresses = '127.0.0.1, ::1';
ALTER SYSTEM SET pg_exporter.statement_timeout = '2s';
ALTER SYSTEM RESET ALL;
