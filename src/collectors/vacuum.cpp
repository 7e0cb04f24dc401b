// Vacuum and wraparound: transaction-ID age per database, running vacuums
// (pg_stat_progress_vacuum), autovacuum workers. Names: postgres_exporter's
// (pg_database_wraparound_*, pg_stat_progress_vacuum_*,
// pg_stat_activity_autovacuum_timestamp_seconds), else the Rust crate's
// (pg_vacuum_*).
//
// Design choices and pitfalls avoided:
// - pg_database_wraparound_age_*_seconds are ages in transaction IDs despite
//   the "_seconds" (postgres_exporter's names, kept for its dashboards); the
//   Rust pg_vacuum_database_freeze_age_xids carries the same value under an
//   honest name. Its percentage of autovacuum_freeze_max_age is neither
//   rounded nor capped at 100 (the Rust crate capped it, hiding exactly the
//   databases past the limit).
// - Progress rows come from the view, whose columns change with the version:
//   PG 17 replaced max_dead_tuples/num_dead_tuples (tuple counts) with
//   max_dead_tuple_bytes/dead_tuple_bytes (bytes) and added num_dead_item_ids,
//   indexes_total (exported as pg_stat_progress_vacuum_indexes: a gauge must
//   not end in _total), indexes_processed; PG 18 added delay_time (milliseconds,
//   zero unless track_cost_delay_timing is on: absent then). postgres_exporter
//   reads the raw parameters and so exports bytes as "max_dead_tuples" on 17+;
//   here each version exports what its columns mean (vacuum_progress_sql).
// - relname: pg_class is per database, so a vacuum in another database is
//   named by its relation OID (as postgres_exporter does); in this database the
//   schema-qualified name, always qualified (regclass output would depend on
//   search_path). The Rust pg_vacuum_* families get a datname label besides
//   their `table`: two databases vacuuming the same name at once would
//   otherwise produce duplicate series.
// - A finished vacuum leaves no series: families are rebuilt every scrape, and
//   no "none" placeholder series is invented when nothing runs.
// - pg_stat_activity_autovacuum_timestamp_seconds parses the autovacuum
//   worker's activity text like postgres_exporter (relname = text after the
//   first dot) but drops the " (to prevent wraparound)" suffix and keeps the
//   earliest start per relname, so two workers on same-named tables in two
//   databases cannot yield a duplicate series.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

std::string vacuum_progress_sql(int server_version) {
  std::string sql =
      "SELECT s.*, s.relname AS \"table\", 1 AS in_progress FROM ("
      "SELECT coalesce(p.datname::text, p.datid::text) AS datname, "
      "coalesce(CASE WHEN p.datname = current_database() THEN "
      "  (SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
      "   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = p.relid) END, p.relid::text) AS "
      "relname, "
      "p.phase, p.heap_blks_total, p.heap_blks_scanned, p.heap_blks_vacuumed, p.index_vacuum_count, ";
  if (server_version >= 170000) {
    sql +=
        "p.max_dead_tuple_bytes, p.dead_tuple_bytes, p.num_dead_item_ids, p.indexes_total, "
        "p.indexes_processed, ";
  } else {
    sql += "p.max_dead_tuples, p.num_dead_tuples, ";
  }
  if (server_version >= 180000) {
    sql +=
        "CASE WHEN current_setting('track_cost_delay_timing')::bool THEN p.delay_time / 1000 END "
        "AS delay_time_seconds, ";
  }
  sql +=
      "CASE WHEN p.heap_blks_total > 0 THEN 100.0 * p.heap_blks_scanned / p.heap_blks_total END "
      "AS heap_progress, "
      "CASE WHEN a.backend_type = 'autovacuum worker' THEN 1 WHEN a.backend_type IS NOT NULL THEN 0 END "
      "AS is_autovacuum, "
      "greatest(0, extract(epoch FROM now() - a.xact_start)) AS duration "
      "FROM pg_stat_progress_vacuum p LEFT JOIN pg_stat_activity a ON a.pid = p.pid "
      // Without the privilege to see another role's progress the relation is NULL.
      "WHERE p.relid IS NOT NULL) s "
      "ORDER BY datname, relname";
  return sql;
}

namespace {

constexpr auto G = prometheus::MetricType::Gauge;

// The phases of pg_stat_progress_vacuum (13 to 18), postgres_exporter's set.
constexpr const char* kPhases[] = {
    "initializing",        "scanning heap",   "vacuuming indexes",       "vacuuming heap",
    "cleaning up indexes", "truncating heap", "performing final cleanup"};

constexpr const char* kDatabaseSql =
    "SELECT d.datname, "
    "CASE WHEN d.datallowconn THEN age(d.datfrozenxid) END AS age_datfrozenxid, "
    "CASE WHEN d.datallowconn THEN mxid_age(d.datminmxid) END AS age_datminmxid, "
    "CASE WHEN d.datallowconn AND NOT d.datistemplate THEN age(d.datfrozenxid) END AS freeze_age, "
    "CASE WHEN d.datallowconn AND NOT d.datistemplate THEN 100.0 * age(d.datfrozenxid) "
    "  / nullif(current_setting('autovacuum_freeze_max_age')::float8, 0) END AS freeze_age_pct "
    "FROM pg_database d ORDER BY d.datname";

void collect_databases(const Context& ctx, metrics::Sink& out) {
  emit_rows(ctx.query(kDatabaseSql), out, {"datname"},
            {
                {"age_datfrozenxid", "pg_database_wraparound_age_datfrozenxid_seconds", G,
                 "Age of the oldest unfrozen transaction ID of the database, in transactions (not seconds: "
                 "postgres_exporter's name)."},
                {"age_datminmxid", "pg_database_wraparound_age_datminmxid_seconds", G,
                 "Age of the oldest multixact ID of the database, in multixacts (not seconds: "
                 "postgres_exporter's name)."},
                {"freeze_age", "pg_vacuum_database_freeze_age_xids", G,
                 "Age of the database's datfrozenxid, in transaction IDs."},
                {"freeze_age_pct", "pg_vacuum_database_freeze_age_pct_of_max", G,
                 "Age of datfrozenxid as a percentage of autovacuum_freeze_max_age (above 100: forced "
                 "anti-wraparound vacuums are due)."},
            });
  // Autovacuum also works in databases that allow no connections (template0).
  const Sessions& sessions = ctx.sessions();
  std::map<std::string, double> workers;
  for (const std::string& db : sessions.databases) workers[db] = 0;
  for (const Session& s : sessions.rows) {
    auto it = workers.find(s.datname);
    if (it != workers.end() && s.backend_type == "autovacuum worker") it->second++;
  }
  metrics::Family fw =
      out.gauge("pg_vacuum_autovacuum_workers", "Autovacuum workers currently running in the database.");
  for (const auto& [db, n] : workers) fw.add({{"datname", db}}, n);
  pgx::ResultSet rs = ctx.query("SELECT current_setting('autovacuum_freeze_max_age')::float8 AS v");
  emit_rows(rs, out, {},
            {{"v", "pg_vacuum_freeze_max_age_xids", G, "autovacuum_freeze_max_age, in transaction IDs."}});
}

void collect_progress(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(vacuum_progress_sql(ctx.server_version).c_str());
  const char* per_table = "(by database and schema-qualified relation; OID in other databases)";
  auto help = [&](const char* what) { return std::string(what) + " " + per_table; };
  std::vector<std::string> helps = {
      help("Total heap blocks of the relation being vacuumed."),
      help("Heap blocks scanned so far."),
      help("Heap blocks vacuumed so far."),
      help("Completed index vacuum cycles."),
      help("Dead tuples that fit before an index vacuum cycle is needed (PG 13-16)."),
      help("Dead tuples collected since the last index vacuum cycle (PG 13-16)."),
      help("Dead tuple storage that fits before an index vacuum cycle is needed, in bytes (PG 17+)."),
      help("Dead tuple storage collected since the last index vacuum cycle, in bytes (PG 17+)."),
      help("Dead item identifiers collected since the last index vacuum cycle (PG 17+)."),
      help("Indexes to vacuum or clean up (PG 17+)."),
      help("Indexes vacuumed or cleaned up so far (PG 17+)."),
      help("Time slept for cost-based delay, in seconds (PG 18+, track_cost_delay_timing on)."),
  };
  emit_rows(rs, out, {"datname", "relname"},
            {
                {"heap_blks_total", "pg_stat_progress_vacuum_heap_blks", G, helps[0].c_str()},
                {"heap_blks_scanned", "pg_stat_progress_vacuum_heap_blks_scanned", G, helps[1].c_str()},
                {"heap_blks_vacuumed", "pg_stat_progress_vacuum_heap_blks_vacuumed", G, helps[2].c_str()},
                {"index_vacuum_count", "pg_stat_progress_vacuum_index_vacuums", G, helps[3].c_str()},
                {"max_dead_tuples", "pg_stat_progress_vacuum_max_dead_tuples", G, helps[4].c_str()},
                {"num_dead_tuples", "pg_stat_progress_vacuum_num_dead_tuples", G, helps[5].c_str()},
                {"max_dead_tuple_bytes", "pg_stat_progress_vacuum_max_dead_tuple_bytes", G, helps[6].c_str()},
                {"dead_tuple_bytes", "pg_stat_progress_vacuum_dead_tuple_bytes", G, helps[7].c_str()},
                {"num_dead_item_ids", "pg_stat_progress_vacuum_num_dead_item_ids", G, helps[8].c_str()},
                {"indexes_total", "pg_stat_progress_vacuum_indexes", G, helps[9].c_str()},
                {"indexes_processed", "pg_stat_progress_vacuum_indexes_processed", G, helps[10].c_str()},
                {"delay_time_seconds", "pg_stat_progress_vacuum_delay_time_seconds", G, helps[11].c_str()},
            });

  // The phase as a set of 0/1 series, one per known phase (an unknown phase
  // from a newer server is added rather than lost).
  const size_t dat_c = rs.require("datname"), rel_c = rs.require("relname"), phase_c = rs.require("phase");
  metrics::Family phase =
      out.gauge("pg_stat_progress_vacuum_phase",
                "Current vacuum phase: 1 for the phase the vacuum is in, 0 for the others.");
  for (size_t r = 0; r < rs.rows(); r++) {
    std::string_view dat = rs.text(r, static_cast<size_t>(dat_c));
    std::string_view rel = rs.text(r, static_cast<size_t>(rel_c));
    bool null_phase = rs.is_null(r, static_cast<size_t>(phase_c));
    std::string_view current = rs.text(r, static_cast<size_t>(phase_c));
    bool known = false;
    for (const char* p : kPhases) {
      bool is = !null_phase && current == p;
      known = known || is;
      phase.add({{"datname", dat}, {"relname", rel}, {"phase", p}}, is ? 1 : 0);
    }
    if (!null_phase && !known) phase.add({{"datname", dat}, {"relname", rel}, {"phase", current}}, 1);
  }

  out.gauge("pg_vacuum_active", "Whether any vacuum is running (1 = yes).").add(rs.rows() > 0 ? 1 : 0);
  // The Rust crate's per-vacuum families: label `table` (plus datname).
  emit_rows(rs, out, {"datname", "table"},
            {
                {"in_progress", "pg_vacuum_in_progress", G, "A vacuum of this table is running (always 1)."},
                {"heap_progress", "pg_vacuum_heap_progress", G,
                 "Heap blocks scanned, in percent of the table's heap blocks."},
                {"heap_blks_vacuumed", "pg_vacuum_heap_vacuumed", G, "Heap blocks vacuumed so far."},
                {"index_vacuum_count", "pg_vacuum_index_vacuum_count", G, "Completed index vacuum cycles."},
                {"is_autovacuum", "pg_vacuum_is_autovacuum", G,
                 "Whether the vacuum is run by autovacuum (1) or by a VACUUM command (0)."},
                {"duration", "pg_vacuum_duration_seconds", G,
                 "Time since the vacuuming transaction began, in seconds."},
            });
}

void collect_autovacuum(const Context& ctx, metrics::Sink& out) {
  std::map<std::string, double> started;
  for (const Session& s : ctx.sessions().rows) {
    if (s.autovacuum_relname.empty() || !s.xact_start) continue;
    auto [it, added] = started.emplace(s.autovacuum_relname, *s.xact_start);
    if (!added && *s.xact_start < it->second) it->second = *s.xact_start;
  }
  metrics::Family f =
      out.gauge("pg_stat_activity_autovacuum_timestamp_seconds",
                "Start time of the autovacuum transaction working on the relation, in Unix seconds.");
  for (const auto& [relname, t] : started) f.add({{"relname", relname}}, t);
}

void collect_vacuum(const Context& ctx, metrics::Sink& out) {
  collect_databases(ctx, out);
  collect_progress(ctx, out);
  collect_autovacuum(ctx, out);
}

}  // namespace

extern const Collector vacuum_collector = {
    "vacuum",
    "Transaction ID wraparound age per database, running vacuums (pg_stat_progress_vacuum), autovacuum "
    "workers.",
    true,
    true,
    0,
    0,
    &collect_vacuum};

}  // namespace collectors
