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
// begins (NULL meanwhile), so such waits are not counted yet. pg_locks is
// read once per scrape for all of them (three reads before: each takes every
// lock-manager partition lock, which the sessions of a busy server wait on).
// Blocked sessions come from the scrape's shared read of pg_stat_activity
// (sessions.h). From PostgreSQL 19, pg_stat_lock's cumulative counters per
// lock type: waits that outlasted deadlock_timeout (counted only with
// log_lock_waits on), their time, and fast-path slot overflows.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

std::vector<std::string> lock_types(int server_version) {
  std::vector<std::string> types = {"relation", "extend",        "frozenid",   "page",
                                    "tuple",    "transactionid", "virtualxid", "spectoken",
                                    "object",   "userlock",      "advisory"};
  if (server_version >= 160000) types.emplace_back("applytransaction");
  return types;
}

std::string locks_sql(int server_version) {
  // One read of pg_locks (it takes every lock-manager partition lock) grouped
  // finely enough for all three families, which are summed here.
  std::string sql = "SELECT d.datname, lower(l.mode) AS mode, l.locktype, l.granted, count(*) AS count";
  if (server_version >= 140000) {
    sql +=
        ", max(greatest(0, extract(epoch FROM now() - l.waitstart))) FILTER (WHERE NOT l.granted) AS "
        "longest_wait";
  }
  return sql + " FROM pg_locks l LEFT JOIN pg_database d ON d.oid = l.database GROUP BY 1, 2, 3, 4";
}

std::string lock_stats_sql(int server_version) {
  if (server_version < 190000) return "";  // no pg_stat_lock before 19
  return "SELECT locktype, waits, wait_time / 1000 AS wait_seconds, fastpath_exceeded FROM pg_stat_lock";
}

namespace {

constexpr auto C = prometheus::MetricType::Counter;

constexpr const char* kModes[] = {
    "accesssharelock", "rowsharelock",          "rowexclusivelock", "shareupdateexclusivelock",
    "sharelock",       "sharerowexclusivelock", "exclusivelock",    "accessexclusivelock",
    "sireadlock"};

void collect_locks(const Context& ctx, metrics::Sink& out) {
  const pgx::ResultSet rs = ctx.query(locks_sql(ctx.server_version).c_str());
  const size_t datname_c = rs.require("datname"), mode_c = rs.require("mode"),
               type_c = rs.require("locktype"), granted_c = rs.require("granted"),
               count_c = rs.require("count");
  const int wait_c = rs.column("longest_wait");
  const Sessions& sessions = ctx.sessions();

  std::map<std::pair<std::string, std::string>, double> by_mode;
  for (const std::string& db : sessions.databases) {
    for (const char* mode : kModes) by_mode[{db, mode}] = 0;
  }
  std::map<std::pair<std::string, bool>, double> by_type;
  for (const std::string& type : lock_types(ctx.server_version)) {
    by_type[{type, false}] = 0;
    by_type[{type, true}] = 0;
  }
  double longest_wait = 0;
  for (size_t r = 0; r < rs.rows(); r++) {
    const double n = rs.number(r, count_c).value_or(0);
    // Shared catalogs and non-relation locks belong to no database.
    auto it = by_mode.find({std::string(rs.text(r, datname_c)), std::string(rs.text(r, mode_c))});
    if (it != by_mode.end()) it->second += n;
    if (!rs.is_null(r, type_c) && !rs.is_null(r, granted_c)) {
      by_type[{std::string(rs.text(r, type_c)), rs.number(r, granted_c).value_or(0) != 0}] += n;
    }
    if (wait_c >= 0)
      longest_wait = std::max(longest_wait, rs.number(r, static_cast<size_t>(wait_c)).value_or(0));
  }

  metrics::Family count = out.gauge("pg_locks_count", "Locks held, by database and lock mode.");
  for (const auto& [key, n] : by_mode) count.add({{"datname", key.first}, {"mode", key.second}}, n);
  metrics::Family types = out.gauge(
      "pg_locks_by_type", "Locks in the whole cluster by lock type, granted (true) or awaited (false).");
  for (const auto& [key, n] : by_type) {
    types.add({{"locktype", key.first}, {"granted", key.second ? "true" : "false"}}, n);
  }
  double blocked = 0;
  for (const Session& session : sessions.rows) blocked += session.blocked ? 1 : 0;
  out.gauge("pg_locks_blocked_sessions",
            "Sessions waiting for a heavyweight lock that another session holds or awaits first.")
      .add(blocked);
  if (wait_c >= 0) {
    out.gauge("pg_locks_longest_wait_seconds",
              "How long the longest current lock wait has lasted, in seconds (0 when none; PG 14+).")
        .add(longest_wait);
  }
  const std::string stats_sql = lock_stats_sql(ctx.server_version);
  if (stats_sql.empty()) return;
  emit_rows(ctx.query(stats_sql.c_str()), out, {"locktype"},
            {
                {"waits", "pg_stat_lock_waits_total", C,
                 "Lock waits longer than deadlock_timeout, by lock type (counted with log_lock_waits on; "
                 "PG 19+)."},
                {"wait_seconds", "pg_stat_lock_wait_time_seconds_total", C,
                 "Time spent in those lock waits, in seconds (PG 19+)."},
                {"fastpath_exceeded", "pg_stat_lock_fastpath_exceeded_total", C,
                 "Locks that could not use the fast path because its slots were full (PG 19+)."},
            });
}

}  // namespace

extern const Collector locks_collector = {
    "locks",
    "Locks per database and mode, per lock type; blocked sessions, the longest lock wait (pg_locks); lock "
    "wait statistics (pg_stat_lock, 19+).",
    true,
    true,
    0,
    0,
    &collect_locks};

}  // namespace collectors
