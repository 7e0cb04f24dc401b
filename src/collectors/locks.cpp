// Locks per database and mode (granted or awaited, as pg_locks lists them),
// postgres_exporter's pg_locks_count. Modes are lower-cased and every
// (database, mode) pair is exported, zero when none, as postgres_exporter does:
// dashboards and alerts expect every series to exist. Locks on shared catalogs
// and non-relation locks (database 0 or NULL) belong to no database: not counted.
//
// Beyond postgres_exporter (new names): locks cluster-wide by lock type and
// granted/awaited, every type of the server's version present (zero included;
// a type a newer server adds appears when held), the number of sessions
// blocked by another's lock, and the longest current lock wait. That wait
// comes from pg_locks.waitstart, which exists from PG 14: on 13 the family is
// absent (unknown), never a made-up 0. waitstart is set a moment after the wait
// begins (NULL meanwhile), so such waits are not counted yet. Blocked
// sessions come from the scrape's shared read of pg_stat_activity (sessions.h).
#include <string>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

std::string lock_types_sql(int server_version) {
  std::string types =
      "('relation'), ('extend'), ('frozenid'), ('page'), ('tuple'), ('transactionid'), ('virtualxid'), "
      "('spectoken'), ('object'), ('userlock'), ('advisory')";
  if (server_version >= 160000) types += ", ('applytransaction')";
  return "SELECT coalesce(t.locktype, l.locktype) AS locktype, "
         "CASE WHEN coalesce(t.granted, l.granted) THEN 'true' ELSE 'false' END AS granted, "
         "coalesce(l.count, 0) AS count "
         "FROM ((VALUES " +
         types +
         ") AS k(locktype) CROSS JOIN (VALUES (true), (false)) AS g(granted)) t "
         "FULL JOIN (SELECT locktype, granted, count(*) AS count FROM pg_locks "
         "  WHERE locktype IS NOT NULL AND granted IS NOT NULL GROUP BY locktype, granted) l "
         "  ON l.locktype = t.locktype AND l.granted = t.granted "
         "ORDER BY 1, 2";
}

namespace {

constexpr auto G = prometheus::MetricType::Gauge;

// pg_locks.waitstart exists from PostgreSQL 14.
constexpr const char* kLongestWaitSql =
    "SELECT coalesce(max(greatest(0, extract(epoch FROM now() - waitstart))), 0) AS longest_wait "
    "FROM pg_locks WHERE NOT granted AND waitstart IS NOT NULL";

constexpr const char* kSql =
    "SELECT d.datname, m.mode, coalesce(l.count, 0) AS count "
    "FROM pg_database d "
    "CROSS JOIN (VALUES ('accesssharelock'), ('rowsharelock'), ('rowexclusivelock'), "
    "  ('shareupdateexclusivelock'), ('sharelock'), ('sharerowexclusivelock'), ('exclusivelock'), "
    "  ('accessexclusivelock'), ('sireadlock')) AS m(mode) "
    "LEFT JOIN (SELECT database, lower(mode) AS mode, count(*) AS count FROM pg_locks "
    "  WHERE database IS NOT NULL GROUP BY database, lower(mode)) l "
    "  ON l.database = d.oid AND l.mode = m.mode "
    "ORDER BY d.datname, m.mode";

void collect_locks(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(kSql);
  emit_rows(rs, out, {"datname", "mode"},
            {{"count", "pg_locks_count", G, "Locks held, by database and lock mode."}});
  emit_rows(ctx.query(lock_types_sql(ctx.server_version).c_str()), out, {"locktype", "granted"},
            {{"count", "pg_locks_by_type", G,
              "Locks in the whole cluster by lock type, granted (true) or awaited (false)."}});
  double blocked = 0;
  for (const Session& session : ctx.sessions().rows) blocked += session.blocked ? 1 : 0;
  out.gauge("pg_locks_blocked_sessions",
            "Sessions waiting for a heavyweight lock that another session holds or awaits first.")
      .add(blocked);
  if (ctx.server_version >= 140000) {
    emit_rows(ctx.query(kLongestWaitSql), out, {},
              {{"longest_wait", "pg_locks_longest_wait_seconds", G,
                "How long the longest current lock wait has lasted, in seconds (0 when none; PG 14+)."}});
  }
}

}  // namespace

extern const Collector locks_collector = {
    "locks",
    "Locks per database and mode, per lock type; blocked sessions and the longest lock wait (pg_locks).",
    true,
    true,
    0,
    0,
    &collect_locks};

}  // namespace collectors
