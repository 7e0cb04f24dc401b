// Sessions beyond the `activity` collector: connection headroom, per-database
// session states, waits and blocking, oldest query / transaction / idle-in-
// transaction ages, connections by client, idle-time histogram, prepared
// transactions. Names: postgres_exporter's where it has one
// (pg_long_running_transactions*, pg_process_idle_seconds), else the Rust
// crate's (pg_stat_activity_*_connections, pg_wait_event*).
//
// Design choices and pitfalls avoided:
// - Cardinality: application_name and user names are client-controlled text.
//   Families labelled by them keep the kTopClients largest groups and fold the
//   rest into one series whose labels are all "[other]", so a connection storm
//   of random application names costs at most kTopClients + 1 series.
// - "Used" slots are client backends only: since PG 12 walsenders have their
//   own slots, and background workers (this exporter included) draw on
//   max_worker_processes, not max_connections.
// - pg_blocking_pids() takes every lock-manager partition lock: it is only
//   called for sessions already waiting on a heavyweight lock (CASE guards it;
//   AND gives no evaluation-order guarantee).
// - Ages are computed against the scrape's transaction start and clamped at 0
//   (a query that started after it would be negative). "Oldest" ages are 0
//   when no session qualifies, like pg_stat_activity_max_tx_duration, so an
//   alert `> 3600` never sees a gap.
// - pg_long_running_transactions keeps postgres_exporter's semantics (every
//   non-idle session with an open transaction, autovacuum excluded, no age
//   threshold despite the name) but leaves out the scraping session itself
//   and this exporter's worker, which postgres_exporter counted as 1.
// - The Rust crate counted as "waiting" every client with a wait event, which
//   includes every idle session (ClientRead): here only active sessions count.
//   Its pg_wait_event_type overwrote (not summed) counts per event: summed here.
// - pg_process_idle_seconds is a real histogram of the idle client sessions
//   (postgres_exporter's buckets; its query counted non-idle sessions in the
//   buckets and exported one application only).
// - Every family is built fresh per scrape: a closed session, a finished
//   prepared transaction or a vanished application leaves no stale series.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "collectors/collector.h"

namespace collectors {

namespace {

constexpr auto G = prometheus::MetricType::Gauge;

// Largest client groups kept per family; the rest become one "[other]" series.
constexpr int kTopClients = 50;
// postgres_exporter's pg_process_idle_seconds buckets.
constexpr int kIdleBuckets[] = {1, 2, 5, 15, 30, 60, 90, 120, 300};
// Wait event types of every supported version: exported even when zero.
constexpr const char* kWaitEventTypes[] = {"Activity", "BufferPin", "Client", "Extension", "IO",
                                           "IPC",      "Lock",      "LWLock", "Timeout"};

// "Running a query": active or in a fastpath function call.
constexpr const char* kPerDatabaseSql =
    "SELECT d.datname, "
    "count(a.pid) FILTER (WHERE a.state = 'active') AS active, "
    "count(a.pid) FILTER (WHERE a.state = 'idle') AS idle, "
    "count(a.pid) FILTER (WHERE a.state = 'idle in transaction') AS idle_in_transaction, "
    "count(a.pid) FILTER (WHERE a.state = 'idle in transaction (aborted)') AS idle_in_transaction_aborted, "
    "count(a.pid) FILTER (WHERE a.state = 'active' AND a.wait_event IS NOT NULL) AS waiting, "
    "count(a.pid) FILTER (WHERE CASE WHEN a.wait_event_type = 'Lock' "
    "  THEN cardinality(pg_blocking_pids(a.pid)) > 0 ELSE false END) AS blocked, "
    "coalesce(max(greatest(0, extract(epoch FROM now() - a.query_start))) "
    "  FILTER (WHERE a.state IN ('active', 'fastpath function call')), 0) AS max_query_duration "
    "FROM pg_database d "
    "LEFT JOIN pg_stat_activity a ON a.datid = d.oid AND a.backend_type = 'client backend' "
    "GROUP BY d.datname ORDER BY d.datname";

// pg_stat_activity is read once (it builds a row per backend, text and all,
// on every read) and aggregated four ways.
constexpr const char* kGlobalSql =
    "WITH a AS MATERIALIZED (SELECT pid, backend_type, state, query_start, state_change, xact_start "
    "  FROM pg_stat_activity) "
    "SELECT current_setting('max_connections')::float8 AS max_connections, "
    "current_setting('superuser_reserved_connections')::float8 AS superuser_reserved, "
    // PG 16+; NULL before (missing_ok).
    "current_setting('reserved_connections', true)::float8 AS reserved, "
    "(SELECT count(*) FROM a WHERE backend_type = 'client backend') AS used, "
    "(SELECT coalesce(max(greatest(0, extract(epoch FROM now() - query_start))), 0) "
    "  FROM a WHERE backend_type = 'client backend' "
    "  AND state IN ('active', 'fastpath function call')) AS oldest_query, "
    "(SELECT coalesce(max(greatest(0, extract(epoch FROM now() - state_change))), 0) "
    "  FROM a WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')) "
    "  AS oldest_idle_in_transaction, "
    "l.transactions AS long_running, l.oldest AS long_running_oldest "
    "FROM (SELECT count(*) AS transactions, "
    "  coalesce(max(greatest(0, extract(epoch FROM now() - xact_start))), 0) AS oldest "
    "  FROM a WHERE state IS DISTINCT FROM 'idle' AND xact_start IS NOT NULL "
    "  AND backend_type IS DISTINCT FROM 'autovacuum worker' AND backend_type IS DISTINCT FROM 'pg_exporter' "
    "  AND pid <> pg_backend_pid()) l";

constexpr const char* kWaitEventsSql =
    "SELECT wait_event_type, wait_event, count(*) AS sessions FROM pg_stat_activity "
    "WHERE state = 'active' AND wait_event_type IS NOT NULL AND wait_event IS NOT NULL "
    "GROUP BY wait_event_type, wait_event";

constexpr const char* kPreparedSql =
    "SELECT d.datname, count(p.gid) AS count, "
    "coalesce(max(greatest(0, extract(epoch FROM now() - p.prepared))), 0) AS oldest "
    "FROM pg_database d LEFT JOIN pg_prepared_xacts p ON p.database = d.datname "
    "GROUP BY d.datname ORDER BY d.datname";

std::string other_or(const char* column) {
  return std::string("CASE WHEN rn <= ") + std::to_string(kTopClients) + " THEN " + column +
         " ELSE '[other]' END AS " + column;
}

// Client connections grouped by database and `column` (application_name or
// usename), the kTopClients largest groups kept, the rest in "[other]".
std::string by_client_sql(const char* column) {
  std::string col(column);
  return "WITH g AS (SELECT coalesce(datname::text, '') AS datname, coalesce(" + col + "::text, '') AS " +
         col +
         ", count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2), "
         "r AS (SELECT *, row_number() OVER (ORDER BY n DESC, datname, " +
         col + ") AS rn FROM g) SELECT " + other_or("datname") + ", " + other_or(column) +
         ", sum(n) AS connections FROM r GROUP BY 1, 2 ORDER BY 1, 2";
}

std::string idle_histogram_sql() {
  std::string sql =
      "WITH s AS (SELECT coalesce(application_name, '') AS application_name, "
      "  greatest(0, extract(epoch FROM now() - state_change)) AS idle FROM pg_stat_activity "
      "  WHERE backend_type = 'client backend' AND state = 'idle' AND state_change IS NOT NULL), "
      "g AS (SELECT application_name, count(*) AS n FROM s GROUP BY 1), "
      "r AS (SELECT application_name, row_number() OVER (ORDER BY n DESC, application_name) AS rn FROM g) "
      "SELECT " +
      other_or("application_name") + ", count(*) AS count, sum(idle) AS sum";
  int i = 0;
  for (int le : kIdleBuckets) {
    sql += ", count(*) FILTER (WHERE idle <= " + std::to_string(le) + ") AS b" + std::to_string(i++);
  }
  sql += " FROM s JOIN r USING (application_name) GROUP BY 1 ORDER BY 1";
  return sql;
}

// The value of `column` in row 0, if there is one and it is a number.
std::optional<double> first(const pgx::ResultSet& rs, const char* column) {
  int c = rs.column(column);
  if (c < 0 || rs.rows() == 0) return std::nullopt;
  return rs.number(0, static_cast<size_t>(c));
}

void collect_per_database(const Context& ctx, metrics::Sink& out) {
  emit_rows(
      ctx.query(kPerDatabaseSql), out, {"datname"},
      {
          {"active", "pg_stat_activity_active_connections", G, "Active client connections per database."},
          {"idle", "pg_stat_activity_idle_connections", G, "Idle client connections per database."},
          {"idle_in_transaction", "pg_stat_activity_idle_in_transaction", G,
           "Client connections idle in transaction per database."},
          {"idle_in_transaction_aborted", "pg_stat_activity_idle_in_transaction_aborted", G,
           "Client connections idle in a failed transaction per database."},
          {"waiting", "pg_stat_activity_waiting_connections", G,
           "Active client connections currently waiting on a wait event, per database."},
          {"blocked", "pg_stat_activity_blocked_connections", G,
           "Client connections waiting for a heavyweight lock held by another session, per database."},
          {"max_query_duration", "pg_stat_activity_max_query_duration_seconds", G,
           "Run time of the longest running query per database, in seconds (0 when none runs)."},
      });
}

void collect_global(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(kGlobalSql);
  auto max_conn = first(rs, "max_connections");
  auto used = first(rs, "used");
  auto su_reserved = first(rs, "superuser_reserved");
  auto reserved = first(rs, "reserved");
  if (max_conn) {
    out.gauge("pg_stat_activity_max_connections", "Maximum number of client connections (max_connections).")
        .add(*max_conn);
  }
  if (used) {
    out.gauge("pg_stat_activity_used_connections", "Connection slots in use by client backends.").add(*used);
  }
  if (max_conn && used) {
    out.gauge("pg_stat_activity_available_connections",
              "Connection slots still free, reserved ones included (max_connections - used).")
        .add(*max_conn - *used);
    if (*max_conn > 0) {
      out.gauge("pg_stat_activity_utilization_ratio", "Connection slots in use / max_connections.")
          .add(*used / *max_conn);
    }
  }
  metrics::Family res =
      out.gauge("pg_stat_activity_reserved_connections",
                "Connection slots reserved for superusers (superuser_reserved_connections) "
                "and for pg_use_reserved_connections members (reserved_connections, PG 16+).");
  if (su_reserved) res.add({{"reserved_for", "superuser"}}, *su_reserved);
  if (reserved) res.add({{"reserved_for", "pg_use_reserved_connections"}}, *reserved);
  if (max_conn && used && su_reserved) {
    double open = *max_conn - *su_reserved - reserved.value_or(0) - *used;
    out.gauge("pg_stat_activity_available_unreserved_connections",
              "Connection slots still open to roles that may not use reserved slots (0 when exhausted).")
        .add(open < 0 ? 0 : open);
  }
  if (auto v = first(rs, "oldest_query")) {
    out.gauge("pg_stat_activity_oldest_query_age_seconds",
              "Run time of the longest running client query, in seconds (0 when none runs).")
        .add(*v);
  }
  if (auto v = first(rs, "oldest_idle_in_transaction")) {
    out.gauge("pg_stat_activity_oldest_idle_in_transaction_seconds",
              "Time the longest idle-in-transaction session has been idle, in seconds (0 when none).")
        .add(*v);
  }
  if (auto v = first(rs, "long_running")) {
    out.gauge("pg_long_running_transactions",
              "Open transactions of non-idle sessions, autovacuum and the exporter excluded.")
        .add(*v);
  }
  if (auto v = first(rs, "long_running_oldest")) {
    out.gauge("pg_long_running_transactions_oldest_timestamp_seconds",
              "Age of the oldest of those transactions, in seconds (0 when none).")
        .add(*v);
  }
}

void collect_wait_events(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(kWaitEventsSql);
  const size_t type_c = rs.require("wait_event_type"), event_c = rs.require("wait_event"),
               n_c = rs.require("sessions");
  std::vector<std::pair<std::string, double>> types, events;
  for (const char* t : kWaitEventTypes) types.emplace_back(t, 0);
  auto bump = [](std::vector<std::pair<std::string, double>>& v, std::string_view key, double n) {
    for (auto& kv : v) {
      if (kv.first == key) {
        kv.second += n;
        return;
      }
    }
    v.emplace_back(std::string(key), n);
  };
  for (size_t r = 0; r < rs.rows(); r++) {
    auto n = rs.number(r, static_cast<size_t>(n_c));
    if (!n || rs.is_null(r, static_cast<size_t>(type_c)) || rs.is_null(r, static_cast<size_t>(event_c)))
      continue;
    bump(types, rs.text(r, static_cast<size_t>(type_c)), *n);
    bump(events, rs.text(r, static_cast<size_t>(event_c)), *n);
  }
  metrics::Family ft = out.gauge("pg_wait_event_type", "Active sessions waiting, by wait event type.");
  for (const auto& kv : types) ft.add({{"type", kv.first}}, kv.second);
  metrics::Family fe =
      out.gauge("pg_wait_event", "Active sessions waiting, by wait event (summed over wait event types).");
  for (const auto& kv : events) fe.add({{"event", kv.first}}, kv.second);
}

void collect_by_client(const Context& ctx, metrics::Sink& out) {
  emit_rows(ctx.query(by_client_sql("application_name").c_str()), out, {"datname", "application_name"},
            {{"connections", "pg_stat_activity_connections_by_application", G,
              "Client connections by database and application_name (the 50 largest groups; the rest in "
              "[other])."}});
  emit_rows(ctx.query(by_client_sql("usename").c_str()), out, {"datname", "usename"},
            {{"connections", "pg_stat_activity_connections_by_user", G,
              "Client connections by database and user (the 50 largest groups; the rest in [other])."}});
}

void collect_idle_histogram(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(idle_histogram_sql().c_str());
  const size_t app_c = rs.require("application_name"), count_c = rs.require("count"),
               sum_c = rs.require("sum");
  metrics::Family fam =
      out.histogram("pg_process_idle_seconds",
                    "Time idle client sessions have been idle, in seconds, by application_name "
                    "(the 50 largest groups; the rest in [other]).");
  for (size_t r = 0; r < rs.rows(); r++) {
    auto count = rs.number(r, static_cast<size_t>(count_c));
    auto sum = rs.number(r, static_cast<size_t>(sum_c));
    if (!count || !sum || *count < 0) continue;
    std::vector<std::pair<double, uint64_t>> buckets;
    bool ok = true;
    int i = 0;
    for (int le : kIdleBuckets) {
      int c = rs.column("b" + std::to_string(i++));
      auto v = c < 0 ? std::nullopt : rs.number(r, static_cast<size_t>(c));
      if (!v || *v < 0) {
        ok = false;
        break;
      }
      buckets.emplace_back(le, static_cast<uint64_t>(*v));
    }
    if (!ok) continue;
    fam.add_histogram({{"application_name", rs.text(r, static_cast<size_t>(app_c))}}, buckets,
                      static_cast<uint64_t>(*count), *sum);
  }
}

void collect_prepared(const Context& ctx, metrics::Sink& out) {
  emit_rows(ctx.query(kPreparedSql), out, {"datname"},
            {
                {"count", "pg_prepared_xacts", G, "Prepared transactions (two-phase commit) per database."},
                {"oldest", "pg_prepared_xacts_oldest_age_seconds", G,
                 "Age of the oldest prepared transaction per database, in seconds (0 when none)."},
            });
}

void collect_connections(const Context& ctx, metrics::Sink& out) {
  collect_global(ctx, out);
  collect_per_database(ctx, out);
  collect_wait_events(ctx, out);
  collect_by_client(ctx, out);
  collect_idle_histogram(ctx, out);
  collect_prepared(ctx, out);
}

}  // namespace

extern const Collector connections_collector = {
    "connections",
    "Connection headroom, session states, waits, blocking, oldest ages, clients, idle histogram, prepared "
    "transactions (pg_stat_activity, pg_prepared_xacts).",
    true,
    true,
    0,
    0,
    &collect_connections};

}  // namespace collectors
