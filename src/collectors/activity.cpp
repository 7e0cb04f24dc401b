// Connections per database and state, postgres_exporter's pg_stat_activity
// family. Every (database, state) pair is exported, zero when empty, because
// dashboards and alerts expect the series to exist (a series that vanishes
// reads as "no data", not 0). Only client backends count (no walsenders,
// parallel workers or this exporter). A transaction that began after this
// scrape's transaction would have a negative age: it is clamped to 0.
#include "collectors/collector.h"

namespace collectors {

namespace {

constexpr const char* kSql =
    "SELECT d.datname, s.state, coalesce(a.count, 0) AS count, coalesce(a.max_tx_duration, 0) AS "
    "max_tx_duration "
    "FROM pg_database d "
    "CROSS JOIN (VALUES ('active'), ('idle'), ('idle in transaction'), ('idle in transaction (aborted)'), "
    "  ('fastpath function call'), ('disabled')) AS s(state) "
    "LEFT JOIN (SELECT datname, state, count(*) AS count, "
    "  greatest(0, max(extract(epoch FROM now() - xact_start))) AS max_tx_duration "
    "  FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname IS NOT NULL "
    "  GROUP BY datname, state) a ON a.datname = d.datname AND a.state = s.state "
    "ORDER BY d.datname, s.state";

void collect_activity(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(kSql);
  emit_rows(rs, out, {"datname", "state"},
            {
                {"count", "pg_stat_activity_count", prometheus::MetricType::Gauge,
                 "Client connections by database and state."},
                {"max_tx_duration", "pg_stat_activity_max_tx_duration", prometheus::MetricType::Gauge,
                 "Age of the oldest open transaction by database and state, in seconds."},
            });
}

}  // namespace

extern const Collector activity_collector = {
    "activity",
    "Client connections and oldest transaction age per database and state (pg_stat_activity).",
    true,
    true,
    0,
    0,
    &collect_activity};

}  // namespace collectors
