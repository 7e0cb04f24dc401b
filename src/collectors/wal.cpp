// WAL volume and position: pg_stat_wal (PostgreSQL 14+) under the Rust
// crate's names, the pg_wal directory (postgres_exporter's pg_wal_*) and the
// current WAL position (postgres_exporter's pg_xlog_location_bytes).
// - pg_stat_wal's write/sync columns exist on 14..17 only: PostgreSQL 18 moved
//   them to pg_stat_io (object "wal"), which the io collector exports; they are
//   not re-derived here, so a series never changes meaning across an upgrade.
//   Their times are milliseconds in the view and seconds here (and stay 0
//   unless track_wal_io_timing is on).
// - pg_ls_waldir() needs superuser or pg_monitor. Without EXECUTE on it the
//   directory families are left out instead of failing the whole collector
//   (a failed statement would abort the collector's subtransaction).
// - pg_current_wal_lsn() raises an error during recovery: on a standby the
//   position is the last replayed LSN, as postgres_exporter documents for this
//   family ("generated on primary or replayed on replica"). The choice is made
//   in SQL so that a promotion between the probe and this query cannot error.
//   No 2^52 modulus as postgres_exporter applies: it would wrap at 4 PiB of WAL
//   and a float64 holds byte positions exactly up to 8 PiB.
#include <string>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

std::string wal_stat_sql(int server_version) {
  if (server_version < 140000) return "";  // no pg_stat_wal before 14
  std::string sql = "SELECT wal_records, wal_fpi, wal_bytes, wal_buffers_full";
  if (server_version < 180000) sql += ", wal_write, wal_sync, wal_write_time, wal_sync_time";
  sql += " FROM pg_stat_wal";
  return sql;
}

namespace {

constexpr auto C = prometheus::MetricType::Counter;
constexpr auto G = prometheus::MetricType::Gauge;

void collect_wal(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet pos = ctx.query(
      "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END "
      "- '0/0'::pg_lsn AS lsn_bytes, "
      "has_function_privilege('pg_catalog.pg_ls_waldir()', 'EXECUTE') AS can_list");
  emit_rows(pos, out, {},
            {{"lsn_bytes", "pg_xlog_location_bytes", G,
              "WAL position in bytes: generated on a primary, replayed on a standby."}});
  int can_list = pos.column("can_list");
  if (pos.rows() == 1 && can_list >= 0 && pos.number(0, static_cast<size_t>(can_list)).value_or(0) != 0) {
    // Only WAL segment files; not .partial, .history or archive_status.
    emit_rows(ctx.query("SELECT count(*) AS segments, sum(size) AS size_bytes FROM pg_ls_waldir() "
                        "WHERE name ~ '^[0-9A-F]{24}$'"),
              out, {},
              {
                  {"segments", "pg_wal_segments", G, "Number of WAL segment files in pg_wal."},
                  {"size_bytes", "pg_wal_size_bytes", G, "Total size of the WAL segment files in pg_wal."},
              });
  }

  const std::string sql = wal_stat_sql(ctx.server_version);
  if (sql.empty()) return;
  emit_rows(
      ctx.query(sql.c_str()), out, {},
      {
          {"wal_records", "pg_stat_wal_records_total", C, "WAL records generated."},
          {"wal_fpi", "pg_stat_wal_fpi_total", C, "WAL full page images generated."},
          {"wal_bytes", "pg_stat_wal_bytes_total", C, "WAL generated, in bytes."},
          {"wal_buffers_full", "pg_stat_wal_buffers_full_total", C,
           "Times WAL data was written to disk because the WAL buffers were full."},
          // PostgreSQL 14..17 (18: pg_stat_io_*{object="wal"}).
          {"wal_write", "pg_stat_wal_write_total", C,
           "Times WAL buffers were written out to disk (XLogWrite requests)."},
          {"wal_sync", "pg_stat_wal_sync_total", C, "Times WAL files were synced to disk."},
          {"wal_write_time", "pg_stat_wal_write_time_seconds_total", C,
           "Time spent writing WAL buffers to disk, in seconds (0 unless track_wal_io_timing is on).", 0.001},
          {"wal_sync_time", "pg_stat_wal_sync_time_seconds_total", C,
           "Time spent syncing WAL files to disk, in seconds (0 unless track_wal_io_timing is on).", 0.001},
      });
}

}  // namespace

extern const Collector wal_collector = {
    "wal",       "WAL statistics (pg_stat_wal, 14+), WAL segment files in pg_wal, current WAL position.",
    true,        true,
    0,           0,
    &collect_wal};

}  // namespace collectors
