// pg_stat_database, database sizes and connection limits, under
// postgres_exporter's names and types so its dashboards work unchanged. Its
// pg_stat_database counters predate the _total rule and keep their old names;
// the times stay in milliseconds as it exports them. The PG14+ session columns
// and 18's parallel worker counts are new families in the same style
// (seconds, _total).
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

std::string database_stat_sql(int server_version) {
  // The row with a NULL datname holds shared objects: no database to name.
  std::string sql =
      "SELECT datid::text AS datid, datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit, "
      "tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, conflicts, temp_files, temp_bytes, "
      "deadlocks, blk_read_time, blk_write_time, extract(epoch FROM stats_reset) AS stats_reset";
  if (server_version >= 140000) {
    sql +=
        ", session_time, active_time, idle_in_transaction_time, sessions, sessions_abandoned, "
        "sessions_fatal, sessions_killed";
  }
  if (server_version >= 180000) sql += ", parallel_workers_to_launch, parallel_workers_launched";
  return sql + " FROM pg_stat_database WHERE datname IS NOT NULL";
}

namespace {

constexpr auto C = prometheus::MetricType::Counter;
constexpr auto G = prometheus::MetricType::Gauge;

void collect_database(const Context& ctx, metrics::Sink& out) {
  const std::string sql = database_stat_sql(ctx.server_version);
  emit_rows(
      ctx.query(sql.c_str()), out, {"datid", "datname"},
      {
          {"numbackends", "pg_stat_database_numbackends", G,
           "Backends currently connected to this database."},
          {"xact_commit", "pg_stat_database_xact_commit", C, "Transactions committed in this database."},
          {"xact_rollback", "pg_stat_database_xact_rollback", C,
           "Transactions rolled back in this database."},
          {"blks_read", "pg_stat_database_blks_read", C, "Disk blocks read in this database."},
          {"blks_hit", "pg_stat_database_blks_hit", C, "Disk blocks found already in the buffer cache."},
          {"tup_returned", "pg_stat_database_tup_returned", C, "Rows returned by queries in this database."},
          {"tup_fetched", "pg_stat_database_tup_fetched", C, "Rows fetched by queries in this database."},
          {"tup_inserted", "pg_stat_database_tup_inserted", C, "Rows inserted by queries in this database."},
          {"tup_updated", "pg_stat_database_tup_updated", C, "Rows updated by queries in this database."},
          {"tup_deleted", "pg_stat_database_tup_deleted", C, "Rows deleted by queries in this database."},
          {"conflicts", "pg_stat_database_conflicts", C, "Queries canceled due to conflicts with recovery."},
          {"temp_files", "pg_stat_database_temp_files", C, "Temporary files created by queries."},
          {"temp_bytes", "pg_stat_database_temp_bytes", C, "Data written to temporary files, in bytes."},
          {"deadlocks", "pg_stat_database_deadlocks", C, "Deadlocks detected in this database."},
          {"blk_read_time", "pg_stat_database_blk_read_time", C,
           "Time spent reading data file blocks, in milliseconds."},
          {"blk_write_time", "pg_stat_database_blk_write_time", C,
           "Time spent writing data file blocks, in milliseconds."},
          {"stats_reset", "pg_stat_database_stats_reset", C,
           "Time at which these statistics were last reset, in Unix seconds."},
          // PostgreSQL 14+ (absent columns add no family).
          {"active_time", "pg_stat_database_active_time_seconds_total", C,
           "Time spent executing SQL statements in this database, in seconds.", 0.001},
          {"session_time", "pg_stat_database_session_time_seconds_total", C,
           "Time spent by sessions in this database, in seconds.", 0.001},
          {"idle_in_transaction_time", "pg_stat_database_idle_in_transaction_time_seconds_total", C,
           "Time spent idling in a transaction in this database, in seconds.", 0.001},
          {"sessions", "pg_stat_database_sessions_total", C, "Sessions established to this database."},
          {"sessions_abandoned", "pg_stat_database_sessions_abandoned_total", C,
           "Sessions terminated because the connection to the client was lost."},
          {"sessions_fatal", "pg_stat_database_sessions_fatal_total", C,
           "Sessions terminated by fatal errors."},
          {"sessions_killed", "pg_stat_database_sessions_killed_total", C,
           "Sessions terminated by operator intervention."},
          // PostgreSQL 18+.
          {"parallel_workers_to_launch", "pg_stat_database_parallel_workers_to_launch_total", C,
           "Parallel workers queries in this database planned to launch."},
          {"parallel_workers_launched", "pg_stat_database_parallel_workers_launched_total", C,
           "Parallel workers queries in this database launched."},
      });

  // Databases that refuse connections (template0) are skipped. pg_database_size
  // needs CONNECT on the database (or pg_read_all_stats): where that is missing,
  // or a database is dropped mid-scrape, this collector fails as a whole, which
  // the scrape reports (pg_exporter_collector_success 0).
  //
  // The worker's own database is summed from its folder's listing, which
  // relation_sizes reads in the same scrape anyway: at 20,000 tables that is
  // 100,000 stat() calls saved. Only when no other tablespace exists (its
  // objects could be elsewhere); pg_database_size() otherwise. The worker
  // keeps both for pg_exporter.size_ttl (kept_reads.h): a database's size
  // is read again once it is that old.
  using Clock = datadir::DirectorySizes::Clock;
  const Clock::time_point now = ctx.started;
  std::string kept_oids;
  if (ctx.kept) {
    for (const auto& [oid, size] : ctx.kept->database_sizes) {
      kept_oids += (kept_oids.empty() ? "" : ",") + std::to_string(oid);
    }
  }
  const std::string size_sql =
      "SELECT d.datname, d.oid::text AS dboid, d.datconnlimit AS connection_limit,"
      "  CASE WHEN d.datname = current_database()"
      "    AND NOT EXISTS (SELECT 1 FROM pg_tablespace WHERE oid NOT IN (1663, 1664)) THEN 'files'"
      "    WHEN d.oid = ANY ('{" +
      kept_oids +
      "}'::oid[]) THEN 'kept' ELSE 'read' END AS source,"
      "  CASE WHEN d.datname = current_database()"
      "    AND NOT EXISTS (SELECT 1 FROM pg_tablespace WHERE oid NOT IN (1663, 1664))"
      "    OR d.oid = ANY ('{" +
      kept_oids +
      "}'::oid[]) THEN NULL ELSE pg_database_size(d.oid) END AS size_bytes "
      "FROM pg_database d WHERE d.datallowconn";
  pgx::ResultSet rs = ctx.query(size_sql.c_str());
  const size_t name_c = rs.require("datname"), oid_c = rs.require("dboid"), size_c = rs.require("size_bytes"),
               source_c = rs.require("source");
  metrics::Family size = out.gauge("pg_database_size_bytes", "Disk space used by the database, in bytes.");
  metrics::Family age = out.gauge(
      "pg_exporter_database_size_age_seconds",
      "Age of pg_database_size_bytes: seconds since the worker read it (pg_exporter.size_ttl; 0 when read "
      "by this scrape).");
  for (size_t r = 0; r < rs.rows(); r++) {
    const metrics::LabelSet labels{{"datname", rs.text(r, name_c)}};
    const auto oid = static_cast<uint32_t>(rs.number(r, oid_c).value_or(0));
    const std::string_view source = rs.text(r, source_c);
    std::optional<double> bytes = rs.number(r, size_c);
    double read_at_age = 0;
    if (source == "files") {
      const std::string dir = "base/" + std::string(rs.text(r, oid_c));
      auto total = ctx.files->total_bytes(dir);
      if (!total)
        throw std::runtime_error("cannot read the folder of database " + std::string(rs.text(r, name_c)));
      bytes = static_cast<double>(*total);
      read_at_age = ctx.files->oldest_age_seconds(now);
    } else if (source == "kept" && ctx.kept) {
      auto it = ctx.kept->database_sizes.find(oid);
      if (it == ctx.kept->database_sizes.end()) continue;  // cannot happen: listed from this map
      bytes = it->second.bytes;
      read_at_age = std::chrono::duration<double>(now - it->second.taken).count();
    } else if (bytes && ctx.kept && ctx.kept->size_ttl.count() > 0) {
      ctx.kept->database_sizes[oid] = {*bytes, Clock::now()};
    }
    if (bytes) {
      size.add(labels, *bytes);
      age.add(labels, read_at_age);
    }
  }
  emit_rows(rs, out, {"datname"},
            {{"connection_limit", "pg_database_connection_limit", G,
              "Connection limit of the database (-1: no limit)."}});
}

}  // namespace

extern const Collector database_collector = {
    "database",
    "Per-database statistics (pg_stat_database), sizes and connection limits.",
    true,
    true,
    0,
    0,
    &collect_database};

}  // namespace collectors
