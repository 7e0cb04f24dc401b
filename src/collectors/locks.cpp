// Locks held per database and mode. Modes are lower-cased and every one is
// exported (zero when none), as postgres_exporter does.
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
  emit_rows(rs, out, {"datname", "mode"},
            {{"count", "pg_locks_count", prometheus::MetricType::Gauge, "Locks held, by database and lock mode."}});
}

}  // namespace

extern const Collector locks_collector = {"locks", "Locks held per database and lock mode (pg_locks).", true, true,
                                          0, 0, &collect_locks};

}  // namespace collectors
