-- The connections and roles collectors: families, types, label sets, and
-- values checked against the catalogs in the same statement (one transaction:
-- pg_stat_activity is one snapshot for both sides).
SET application_name = 'regress_conn';

SELECT * FROM regress.families(ARRAY['connections']) ORDER BY 1;
SELECT * FROM regress.shape(ARRAY['connections'])
WHERE metric NOT LIKE 'pg_process_idle_seconds%' AND metric <> 'pg_wait_event';

-- Headroom: this session uses a slot; the arithmetic holds.
WITH s AS (SELECT metric, labels, value::float8 AS v FROM regress.samples(ARRAY['connections']))
SELECT (SELECT v FROM s WHERE metric = 'pg_stat_activity_max_connections')
         = current_setting('max_connections')::float8 AS max_ok,
       (SELECT v FROM s WHERE metric = 'pg_stat_activity_used_connections')
         = (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS used_ok,
       (SELECT v FROM s WHERE metric = 'pg_stat_activity_used_connections') >= 1 AS used_includes_me,
       (SELECT v FROM s WHERE metric = 'pg_stat_activity_available_connections')
         = current_setting('max_connections')::float8
           - (SELECT v FROM s WHERE metric = 'pg_stat_activity_used_connections') AS available_ok,
       (SELECT v FROM s WHERE metric = 'pg_stat_activity_utilization_ratio')
         = (SELECT v FROM s WHERE metric = 'pg_stat_activity_used_connections')
           / current_setting('max_connections')::float8 AS ratio_ok,
       (SELECT v FROM s WHERE metric = 'pg_stat_activity_available_unreserved_connections')
         = current_setting('max_connections')::float8 - current_setting('superuser_reserved_connections')::float8
           - (SELECT v FROM s WHERE metric = 'pg_stat_activity_used_connections') AS unreserved_ok;
-- Reserved slots: superusers only before PG 16.
SELECT m[1] AS reserved_for, m[2] AS slots
FROM regexp_matches(pgexporter.metrics(ARRAY['connections']),
  'pg_stat_activity_reserved_connections\{reserved_for="([^"]+)"\} (\S+)', 'g') AS m ORDER BY 1;

-- Per-database session states: one series per database, this session active.
SELECT metric, count(*) = (SELECT count(*) FROM pg_database) AS one_per_database
FROM regress.samples(ARRAY['connections'])
WHERE metric IN ('pg_stat_activity_active_connections', 'pg_stat_activity_idle_connections',
                 'pg_stat_activity_idle_in_transaction', 'pg_stat_activity_idle_in_transaction_aborted',
                 'pg_stat_activity_waiting_connections', 'pg_stat_activity_blocked_connections',
                 'pg_stat_activity_max_query_duration_seconds', 'pg_prepared_xacts',
                 'pg_prepared_xacts_oldest_age_seconds')
GROUP BY metric ORDER BY metric;
SELECT value::float8 >= 1 AS i_am_active FROM (
  SELECT m[1] AS value FROM regexp_matches(pgexporter.metrics(ARRAY['connections']),
    'pg_stat_activity_active_connections\{datname="' || current_database() || '"\} (\S+)') AS m) s;
-- Nobody is blocked or idle in a transaction here; ages are not negative.
SELECT metric, value FROM regress.samples(ARRAY['connections'])
WHERE metric IN ('pg_stat_activity_blocked_connections', 'pg_stat_activity_idle_in_transaction_aborted',
                 'pg_stat_activity_oldest_idle_in_transaction_seconds')
GROUP BY metric, value ORDER BY 1;
SELECT metric, bool_and(value::float8 >= 0) AS not_negative FROM regress.samples(ARRAY['connections'])
WHERE metric IN ('pg_stat_activity_max_query_duration_seconds', 'pg_stat_activity_oldest_query_age_seconds',
                 'pg_long_running_transactions_oldest_timestamp_seconds')
GROUP BY metric ORDER BY 1;

-- The session's own transaction is not a long running one (neither is the
-- exporter's): with this transaction open the count stays 0.
BEGIN;
SELECT txid_current() > 0 AS has_xid;
SELECT value FROM regress.samples(ARRAY['connections']) WHERE metric = 'pg_long_running_transactions';
COMMIT;

-- Wait event types: every type this server can report is exported, zero
-- included. The server lists them in pg_wait_events from 17 on; the
-- documentation's table of wait event types has the same nine on 14-16 and
-- adds InjectionPoint in 17.
CREATE FUNCTION pg_temp.server_wait_event_types() RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT unnest(ARRAY['Activity', 'BufferPin', 'Client', 'Extension', 'IO', 'IPC', 'Lock', 'LWLock',
                                   'Timeout']);
  IF current_setting('server_version_num')::int >= 170000 THEN
    RETURN NEXT 'InjectionPoint';
  END IF;
  IF to_regclass('pg_catalog.pg_wait_events') IS NOT NULL THEN
    RETURN QUERY EXECUTE 'SELECT DISTINCT type FROM pg_catalog.pg_wait_events';
  END IF;
END $$;
SELECT t AS not_exported FROM pg_temp.server_wait_event_types() t
EXCEPT
SELECT m[1] FROM regexp_matches(pgexporter.metrics(ARRAY['connections']), 'pg_wait_event_type\{type="([^"]+)"\}', 'g') AS m;
SELECT labels, count(*) AS series FROM regress.samples(ARRAY['connections'])
WHERE metric = 'pg_wait_event_type' GROUP BY labels;
-- Those of every supported version (an older server reports a type 0 that
-- it does not have).
SELECT string_agg(m[1], ',' ORDER BY m[1]) AS types
FROM regexp_matches(pgexporter.metrics(ARRAY['connections']), 'pg_wait_event_type\{type="([^"]+)"\}', 'g') AS m;

-- Connections by client: this session under its application_name and user.
SELECT m[1] AS connections
FROM regexp_matches(pgexporter.metrics(ARRAY['connections']),
  'pg_stat_activity_connections_by_application\{datname="' || current_database()
  || '",application_name="regress_conn"\} (\S+)') AS m;
SELECT m[1]::float8 >= 1 AS counted
FROM regexp_matches(pgexporter.metrics(ARRAY['connections']),
  'pg_stat_activity_connections_by_user\{datname="' || current_database()
  || '",usename="' || current_user || '"\} (\S+)') AS m;
-- The totals add up to the used slots.
WITH s AS (SELECT metric, value::float8 AS v FROM regress.samples(ARRAY['connections']))
SELECT (SELECT sum(v) FROM s WHERE metric = 'pg_stat_activity_connections_by_application')
         = (SELECT v FROM s WHERE metric = 'pg_stat_activity_used_connections') AS by_application_total,
       (SELECT sum(v) FROM s WHERE metric = 'pg_stat_activity_connections_by_user')
         = (SELECT v FROM s WHERE metric = 'pg_stat_activity_used_connections') AS by_user_total;

-- The idle histogram is a histogram; its samples, when idle sessions exist,
-- are _bucket/_sum/_count with an application_name (+ le) label.
SELECT * FROM regress.families(ARRAY['connections']) WHERE family = 'pg_process_idle_seconds';
SELECT DISTINCT metric, labels FROM regress.samples(ARRAY['connections'])
WHERE metric LIKE 'pg_process_idle_seconds%'
  AND labels NOT IN ('application_name', 'application_name,le');

-- Prepared transactions: counted per database with their age, gone once
-- committed.
BEGIN;
CREATE TABLE regress_prepared (id int);
PREPARE TRANSACTION 'regress_px';
SELECT m[1] AS prepared
FROM regexp_matches(pgexporter.metrics(ARRAY['connections']),
  'pg_prepared_xacts\{datname="' || current_database() || '"\} (\S+)') AS m;
SELECT m[1]::float8 >= 0 AS age_known
FROM regexp_matches(pgexporter.metrics(ARRAY['connections']),
  'pg_prepared_xacts_oldest_age_seconds\{datname="' || current_database() || '"\} (\S+)') AS m;
SELECT sum(value::float8) AS prepared_cluster_wide FROM regress.samples(ARRAY['connections'])
WHERE metric = 'pg_prepared_xacts';
COMMIT PREPARED 'regress_px';
SELECT sum(value::float8) AS prepared_cluster_wide FROM regress.samples(ARRAY['connections'])
WHERE metric = 'pg_prepared_xacts';
SELECT max(value::float8) AS oldest_after_commit FROM regress.samples(ARRAY['connections'])
WHERE metric = 'pg_prepared_xacts_oldest_age_seconds';
DROP TABLE regress_prepared;

-- Roles: login roles with their limit; NOLOGIN and predefined roles are not.
CREATE ROLE regress_login LOGIN CONNECTION LIMIT 3;
CREATE ROLE regress_unlimited LOGIN;
CREATE ROLE regress_group NOLOGIN CONNECTION LIMIT 5;
SELECT * FROM regress.families(ARRAY['roles']) ORDER BY 1;
SELECT * FROM regress.shape(ARRAY['roles']);
SELECT m[1] AS rolname, m[2] AS connection_limit
FROM regexp_matches(pgexporter.metrics(ARRAY['roles']),
  'pg_roles_connection_limit\{rolname="(regress_[a-z]+|pg_monitor)"\} (\S+)', 'g') AS m ORDER BY 1;
SELECT count(*) = (SELECT count(*) FROM pg_roles WHERE rolcanlogin) AS every_login_role
FROM regress.samples(ARRAY['roles']) WHERE metric = 'pg_roles_connection_limit';
DROP ROLE regress_login, regress_unlimited, regress_group;
RESET application_name;
