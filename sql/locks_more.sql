-- The locks collector beyond pg_locks_count (covered in collectors.sql):
-- locks by type, blocked sessions, the longest lock wait. A real wait needs a
-- second session: t/012_sessions_locks.pl.
-- pg_locks.waitstart (the longest wait) from 14, pg_stat_lock from 19.
SELECT * FROM regress.family_diff(ARRAY['locks'], $$
  pg_locks_blocked_sessions gauge
  pg_locks_by_type gauge
  pg_locks_count gauge
  pg_locks_longest_wait_seconds gauge 14+
  pg_stat_lock_fastpath_exceeded_total counter 19+
  pg_stat_lock_wait_time_seconds_total counter 19+
  pg_stat_lock_waits_total counter 19+
$$);
SELECT metric, labels FROM regress.shape(ARRAY['locks'])
WHERE metric LIKE 'pg\_locks\_%' AND metric <> 'pg_locks_longest_wait_seconds';

-- pg_stat_lock (19+): each of its three families has one series per lock type.
SELECT count(DISTINCT metric) = CASE WHEN current_setting('server_version_num')::int >= 190000 THEN 3 ELSE 0 END
         AS families,
       count(*) = CASE WHEN current_setting('server_version_num')::int >= 190000 THEN 3 * 12 ELSE 0 END AS series,
       coalesce(bool_and(labels = 'locktype'), true) AS by_locktype
FROM regress.samples(ARRAY['locks']) WHERE metric LIKE 'pg\_stat\_lock\_%';

-- Every lock type of this version (applytransaction from 16), granted and
-- awaited, zero included.
SELECT string_agg(DISTINCT m[1], ',' ORDER BY m[1])
         = 'advisory,' || CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'applytransaction,' ELSE '' END
           || 'extend,frozenid,object,page,relation,spectoken,transactionid,tuple,userlock,virtualxid' AS types,
       count(*) = 2 * count(DISTINCT m[1]) AS granted_and_awaited
FROM regexp_matches(pgexporter.metrics(ARRAY['locks']),
  'pg_locks_by_type\{locktype="([^"]+)",granted="(true|false)"\}', 'g') AS m;

CREATE TABLE regress_locked (id int);
BEGIN;
LOCK TABLE regress_locked IN ACCESS EXCLUSIVE MODE;
SELECT pg_advisory_xact_lock(4242);
-- This session's locks: one advisory lock granted, none awaited; its table lock.
SELECT m[1] AS locktype, m[2] AS granted, m[3] AS count
FROM regexp_matches(pgexporter.metrics(ARRAY['locks']),
  'pg_locks_by_type\{locktype="(advisory)",granted="(true|false)"\} (\S+)', 'g') AS m ORDER BY 1, 2;
SELECT m[1]::float8 >= 1 AS relation_locks_counted
FROM regexp_matches(pgexporter.metrics(ARRAY['locks']),
  'pg_locks_by_type\{locktype="relation",granted="true"\} (\S+)') AS m;
-- pg_locks_count is unchanged: the access exclusive lock shows in this database.
SELECT m[1]::float8 >= 1 AS exclusive_lock_counted
FROM regexp_matches(pgexporter.metrics(ARRAY['locks']),
  'pg_locks_count\{datname="' || current_database() || '",mode="accessexclusivelock"\} (\S+)') AS m;
-- Nobody waits: no blocked session, longest wait 0 (14+; absent before).
SELECT metric, value FROM regress.samples(ARRAY['locks'])
WHERE metric IN ('pg_locks_blocked_sessions', 'pg_locks_longest_wait_seconds')
UNION ALL SELECT 'pg_locks_longest_wait_seconds', '0' WHERE current_setting('server_version_num')::int < 140000
ORDER BY 1;
COMMIT;
DROP TABLE regress_locked;
