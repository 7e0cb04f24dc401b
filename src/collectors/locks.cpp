// Locks per database and mode (granted or awaited, as pg_locks lists them),
// postgres_exporter's pg_locks_count. Modes are lower-cased and every
// (database, mode) pair is exported, zero when none, as postgres_exporter does:
// dashboards and alerts expect every series to exist. Locks on shared catalogs
// and non-relation locks (database 0 or NULL) belong to no database: not counted.
#include "collectors/collector.h"

namespace collectors {

namespace {

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
  emit_rows(
      rs, out, {"datname", "mode"},
      {{"count", "pg_locks_count", prometheus::MetricType::Gauge, "Locks held, by database and lock mode."}});
}

}  // namespace

extern const Collector locks_collector = {
    "locks", "Locks held per database and lock mode (pg_locks).", true, true, 0, 0, &collect_locks};

}  // namespace collectors
