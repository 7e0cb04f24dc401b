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
// - Everything but prepared transactions is aggregated here from the scrape's
//   one read of pg_stat_activity (sessions.h), shared with activity, locks and
//   vacuum. Ties in the top-50 ranking go by the labels' byte order, not by
//   the database's collation: what matters is that the kept set is stable.
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
#include <iterator>
#include <map>
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
// Wait event types of every supported version: exported even when zero
// (InjectionPoint from 17).
constexpr const char* kWaitEventTypes[] = {"Activity", "BufferPin", "Client", "Extension", "InjectionPoint",
                                           "IO",       "IPC",       "LWLock", "Lock",      "Timeout"};

constexpr const char* kSettingsSql =
    "SELECT current_setting('max_connections')::float8 AS max_connections, "
    "current_setting('superuser_reserved_connections')::float8 AS superuser_reserved, "
    // PG 16+; NULL before (missing_ok).
    "current_setting('reserved_connections', true)::float8 AS reserved";

constexpr const char* kPreparedSql =
    "SELECT d.datname, count(p.gid) AS count, "
    "coalesce(max(greatest(0, extract(epoch FROM now() - p.prepared))), 0) AS oldest "
    "FROM pg_database d LEFT JOIN pg_prepared_xacts p ON p.database = d.datname "
    "GROUP BY d.datname ORDER BY d.datname";

// "Running a query": active or in a fastpath function call.
bool running(const Session& s) { return s.state == "active" || s.state == "fastpath function call"; }
bool idle_in_transaction(const Session& s) {
  return s.state == "idle in transaction" || s.state == "idle in transaction (aborted)";
}
void raise(double& max, const std::optional<double>& v) {
  if (v && *v > max) max = *v;
}

// The value of `column` in row 0, if there is one and it is a number.
std::optional<double> first(const pgx::ResultSet& rs, const char* column) {
  int c = rs.column(column);
  if (c < 0 || rs.rows() == 0) return std::nullopt;
  return rs.number(0, static_cast<size_t>(c));
}

void collect_global(const Context& ctx, const Sessions& sessions, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(kSettingsSql);
  auto max_conn = first(rs, "max_connections");
  auto su_reserved = first(rs, "superuser_reserved");
  auto reserved = first(rs, "reserved");
  double used = 0, oldest_query = 0, oldest_idle_in_transaction = 0, long_running = 0,
         long_running_oldest = 0;
  for (const Session& s : sessions.rows) {
    if (s.client()) {
      used++;
      if (running(s)) raise(oldest_query, s.query_age);
    }
    if (idle_in_transaction(s)) raise(oldest_idle_in_transaction, s.state_age);
    if (s.state != "idle" && s.xact_age && s.backend_type != "autovacuum worker" &&
        s.backend_type != "pg_exporter" && !s.self) {
      long_running++;
      raise(long_running_oldest, s.xact_age);
    }
  }
  if (max_conn) {
    out.gauge("pg_stat_activity_max_connections", "Maximum number of client connections (max_connections).")
        .add(*max_conn);
  }
  out.gauge("pg_stat_activity_used_connections", "Connection slots in use by client backends.").add(used);
  if (max_conn) {
    out.gauge("pg_stat_activity_available_connections",
              "Connection slots still free, reserved ones included (max_connections - used).")
        .add(*max_conn - used);
    if (*max_conn > 0) {
      out.gauge("pg_stat_activity_utilization_ratio", "Connection slots in use / max_connections.")
          .add(used / *max_conn);
    }
  }
  metrics::Family res =
      out.gauge("pg_stat_activity_reserved_connections",
                "Connection slots reserved for superusers (superuser_reserved_connections) "
                "and for pg_use_reserved_connections members (reserved_connections, PG 16+).");
  if (su_reserved) res.add({{"reserved_for", "superuser"}}, *su_reserved);
  if (reserved) res.add({{"reserved_for", "pg_use_reserved_connections"}}, *reserved);
  if (max_conn && su_reserved) {
    double open = *max_conn - *su_reserved - reserved.value_or(0) - used;
    out.gauge("pg_stat_activity_available_unreserved_connections",
              "Connection slots still open to roles that may not use reserved slots (0 when exhausted).")
        .add(open < 0 ? 0 : open);
  }
  out.gauge("pg_stat_activity_oldest_query_age_seconds",
            "Run time of the longest running client query, in seconds (0 when none runs).")
      .add(oldest_query);
  out.gauge("pg_stat_activity_oldest_idle_in_transaction_seconds",
            "Time the longest idle-in-transaction session has been idle, in seconds (0 when none).")
      .add(oldest_idle_in_transaction);
  out.gauge("pg_long_running_transactions",
            "Open transactions of non-idle sessions, autovacuum and the exporter excluded.")
      .add(long_running);
  out.gauge("pg_long_running_transactions_oldest_timestamp_seconds",
            "Age of the oldest of those transactions, in seconds (0 when none).")
      .add(long_running_oldest);
}

struct DatabaseStates {
  double active = 0, idle = 0, idle_in_transaction = 0, idle_in_transaction_aborted = 0, waiting = 0,
         blocked = 0, max_query_duration = 0;
};

void collect_per_database(const Sessions& sessions, metrics::Sink& out) {
  std::map<std::string, DatabaseStates> by_db;
  for (const std::string& db : sessions.databases) by_db[db];
  for (const Session& s : sessions.rows) {
    if (!s.client()) continue;
    auto it = by_db.find(s.datname);
    if (it == by_db.end()) continue;  // a database dropped since: not listed
    DatabaseStates& d = it->second;
    if (s.state == "active") d.active++;
    if (s.state == "idle") d.idle++;
    if (s.state == "idle in transaction") d.idle_in_transaction++;
    if (s.state == "idle in transaction (aborted)") d.idle_in_transaction_aborted++;
    if (s.state == "active" && !s.wait_event.empty()) d.waiting++;
    if (s.blocked) d.blocked++;
    if (running(s)) raise(d.max_query_duration, s.query_age);
  }
  struct Column {
    double DatabaseStates::*value;
    const char* name;
    const char* help;
  };
  constexpr Column kColumns[] = {
      {&DatabaseStates::active, "pg_stat_activity_active_connections",
       "Active client connections per database."},
      {&DatabaseStates::idle, "pg_stat_activity_idle_connections", "Idle client connections per database."},
      {&DatabaseStates::idle_in_transaction, "pg_stat_activity_idle_in_transaction",
       "Client connections idle in transaction per database."},
      {&DatabaseStates::idle_in_transaction_aborted, "pg_stat_activity_idle_in_transaction_aborted",
       "Client connections idle in a failed transaction per database."},
      {&DatabaseStates::waiting, "pg_stat_activity_waiting_connections",
       "Active client connections currently waiting on a wait event, per database."},
      {&DatabaseStates::blocked, "pg_stat_activity_blocked_connections",
       "Client connections waiting for a heavyweight lock held by another session, per database."},
      {&DatabaseStates::max_query_duration, "pg_stat_activity_max_query_duration_seconds",
       "Run time of the longest running query per database, in seconds (0 when none runs)."},
  };
  for (const Column& c : kColumns) {
    metrics::Family f = out.gauge(c.name, c.help);
    for (const auto& [db, states] : by_db) f.add({{"datname", db}}, states.*(c.value));
  }
}

void collect_wait_events(const Sessions& sessions, metrics::Sink& out) {
  std::map<std::string, double> types, events;
  for (const char* t : kWaitEventTypes) types[t] = 0;
  for (const Session& s : sessions.rows) {
    if (s.state != "active" || s.wait_event_type.empty() || s.wait_event.empty()) continue;
    types[s.wait_event_type]++;
    events[s.wait_event]++;
  }
  metrics::Family ft = out.gauge("pg_wait_event_type", "Active sessions waiting, by wait event type.");
  for (const auto& [type, n] : types) ft.add({{"type", type}}, n);
  metrics::Family fe =
      out.gauge("pg_wait_event", "Active sessions waiting, by wait event (summed over wait event types).");
  for (const auto& [event, n] : events) fe.add({{"event", event}}, n);
}

using ClientLabels = std::pair<std::string, std::string>;  // datname, application or user name

// Client connections grouped by database and `name_of` (application_name or
// usename), the kTopClients largest groups kept, the rest in "[other]".
template <typename NameOf>
void collect_by(const Sessions& sessions, NameOf name_of, const char* label, const char* metric,
                const char* help, metrics::Sink& out) {
  std::map<ClientLabels, double> groups;
  for (const Session& s : sessions.rows) {
    if (s.client()) groups[{s.datname, name_of(s)}]++;
  }
  const auto folded = fold_largest(
      groups, kTopClients, ClientLabels{"[other]", "[other]"}, [](double n) { return n; },
      [](double& into, double n) { into += n; });
  metrics::Family f = out.gauge(metric, help);
  for (const auto& [labels, n] : folded) f.add({{"datname", labels.first}, {label, labels.second}}, n);
}

void collect_by_client(const Sessions& sessions, metrics::Sink& out) {
  collect_by(
      sessions, [](const Session& s) -> const std::string& { return s.application_name; }, "application_name",
      "pg_stat_activity_connections_by_application",
      "Client connections by database and application_name (the 50 largest groups; the rest in [other]).",
      out);
  collect_by(
      sessions, [](const Session& s) -> const std::string& { return s.usename; }, "usename",
      "pg_stat_activity_connections_by_user",
      "Client connections by database and user (the 50 largest groups; the rest in [other]).", out);
}

struct IdleGroup {
  uint64_t count = 0;
  double sum = 0;
  uint64_t buckets[std::size(kIdleBuckets)] = {};
};

void collect_idle_histogram(const Sessions& sessions, metrics::Sink& out) {
  std::map<std::string, IdleGroup> groups;
  for (const Session& s : sessions.rows) {
    if (!s.client() || s.state != "idle" || !s.state_age) continue;
    IdleGroup& g = groups[s.application_name];
    g.count++;
    g.sum += *s.state_age;
    for (size_t i = 0; i < std::size(kIdleBuckets); i++) {
      if (*s.state_age <= kIdleBuckets[i]) g.buckets[i]++;
    }
  }
  const auto folded = fold_largest(
      groups, kTopClients, std::string("[other]"), [](const IdleGroup& g) { return g.count; },
      [](IdleGroup& into, const IdleGroup& g) {
        into.count += g.count;
        into.sum += g.sum;
        for (size_t i = 0; i < std::size(kIdleBuckets); i++) into.buckets[i] += g.buckets[i];
      });
  metrics::Family fam =
      out.histogram("pg_process_idle_seconds",
                    "Time idle client sessions have been idle, in seconds, by application_name "
                    "(the 50 largest groups; the rest in [other]).");
  for (const auto& [app, g] : folded) {
    std::vector<std::pair<double, uint64_t>> buckets;
    for (size_t i = 0; i < std::size(kIdleBuckets); i++) buckets.emplace_back(kIdleBuckets[i], g.buckets[i]);
    fam.add_histogram({{"application_name", app}}, buckets, g.count, g.sum);
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
  const Sessions& sessions = ctx.sessions();
  collect_global(ctx, sessions, out);
  collect_per_database(sessions, out);
  collect_wait_events(sessions, out);
  collect_by_client(sessions, out);
  collect_idle_histogram(sessions, out);
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
