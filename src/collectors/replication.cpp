// Replication: lag on a standby, per-standby lag on a primary, slots.
// LSN differences are NUMERIC: they travel as text, never truncated to 0.
#include "collectors/collector.h"

namespace collectors {

namespace {

constexpr auto G = prometheus::MetricType::Gauge;

void collect_standby_lag(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(
      "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
      "  WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
      "  ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())) END AS lag, "
      "extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS last_replay");
  emit_rows(rs, out, {},
            {
                {"lag", "pg_replication_lag_seconds", G,
                 "Replication lag behind the primary, in seconds (0 when all received WAL is replayed)."},
                {"last_replay", "pg_replication_last_replay_seconds", G,
                 "Age of the last transaction replayed, in seconds."},
            });
}

void collect_primary_standbys(const char* current_lsn, const Context& ctx, metrics::Sink& out) {
  std::string sql = std::string(
                        "SELECT r.application_name, coalesce(host(r.client_addr), '') AS client_addr, r.state, "
                        "r.sync_state, coalesce(s.slot_name::text, '') AS slot_name, "
                        "pg_wal_lsn_diff(") +
                    current_lsn + ", '0/0') AS current_lsn_bytes, " + "pg_wal_lsn_diff(" + current_lsn +
                    ", r.replay_lsn) AS replay_diff, "
                    "pg_wal_lsn_diff(" +
                    current_lsn + ", r.sent_lsn) AS sent_lag, pg_wal_lsn_diff(" + current_lsn +
                    ", r.write_lsn) AS write_lag, pg_wal_lsn_diff(" + current_lsn +
                    ", r.flush_lsn) AS flush_lag, "
                    "extract(epoch FROM r.write_lag) AS write_lag_seconds, "
                    "extract(epoch FROM r.flush_lag) AS flush_lag_seconds, "
                    "extract(epoch FROM r.replay_lag) AS replay_lag_seconds "
                    "FROM pg_stat_replication r LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid";
  pgx::ResultSet rs = ctx.query(sql.c_str());
  emit_rows(rs, out, {"application_name", "client_addr", "state", "sync_state", "slot_name"},
            {
                {"current_lsn_bytes", "pg_stat_replication_pg_current_wal_lsn_bytes", G, "Current WAL position of this server, in bytes."},
                {"replay_diff", "pg_stat_replication_pg_wal_lsn_diff", G, "Lag of the standby's replay behind this server's WAL position, in bytes."},
                {"sent_lag", "pg_stat_replication_sent_lag_bytes", G, "WAL not yet sent to the standby, in bytes."},
                {"write_lag", "pg_stat_replication_write_lag_bytes", G, "WAL not yet written by the standby, in bytes."},
                {"flush_lag", "pg_stat_replication_flush_lag_bytes", G, "WAL not yet flushed by the standby, in bytes."},
                {"replay_diff", "pg_stat_replication_replay_lag_bytes", G, "WAL not yet replayed by the standby, in bytes."},
                {"write_lag_seconds", "pg_stat_replication_write_lag_seconds", G, "Time until the standby wrote recent WAL, in seconds."},
                {"flush_lag_seconds", "pg_stat_replication_flush_lag_seconds", G, "Time until the standby flushed recent WAL, in seconds."},
                {"replay_lag_seconds", "pg_stat_replication_replay_lag_seconds", G, "Time until the standby replayed recent WAL, in seconds."},
            });
}

void collect_replication(const Context& ctx, metrics::Sink& out) {
  collect_standby_lag(ctx, out);
  // pg_current_wal_lsn() raises an error during recovery.
  const char* current_lsn = ctx.in_recovery ? "pg_last_wal_receive_lsn()" : "pg_current_wal_lsn()";
  if (!ctx.in_recovery) collect_primary_standbys(current_lsn, ctx, out);

  std::string sql = std::string(
                        "SELECT slot_name::text, slot_type, coalesce(database::text, '') AS database, "
                        "active::int AS active, pg_wal_lsn_diff(") +
                    current_lsn + ", restart_lsn) AS retained FROM pg_replication_slots";
  pgx::ResultSet slots = ctx.query(sql.c_str());
  emit_rows(slots, out, {"slot_name", "slot_type", "database"},
            {
                {"active", "pg_replication_slots_active", G, "Whether the replication slot is in use (1 = yes)."},
                {"retained", "pg_replication_slots_pg_wal_lsn_diff", G, "WAL retained by the replication slot, in bytes."},
            });
}

}  // namespace

extern const Collector replication_collector = {
    "replication", "Replication lag (standby), per-standby lag (primary), replication slots.", true, true, 0, 0,
    &collect_replication};

}  // namespace collectors
