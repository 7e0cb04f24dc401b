// Replication: lag on a standby, per-walsender lag, replication slots, under
// postgres_exporter's names. LSN differences are NUMERIC and travel as text, so
// they are never truncated to 0. pg_current_wal_lsn() raises an error during
// recovery, so on a standby "current" is the furthest of the received and the
// replayed LSN: the received LSN alone restarts at a segment boundary when the
// WAL receiver (re)connects and lags the replay position, which made
// postgres_exporter's diffs negative. The choice is made from ctx.in_recovery.
// Slots are also exported under postgres_exporter's replication_slot names
// ({slot_name, slot_type}: slot_*, safe_wal_size_bytes, wal_status), and each
// walsender's reply age under the Rust crate's pg_stat_replication_reply_time.
#include <string>

#include "collectors/collector.h"

namespace collectors {

namespace {

constexpr auto G = prometheus::MetricType::Gauge;

// On a standby: 0 when everything received is replayed (received <= replayed:
// see above), else the age of the last replayed transaction, never negative.
// Absent when that age is unknown (nothing replayed since start-up while WAL
// waits): an invented 0 would hide a stuck standby.
constexpr const char* kStandbyLagSql =
    "SELECT CASE WHEN receive_lsn <= replay_lsn THEN 0 WHEN age < 0 THEN 0 ELSE age END AS lag, "
    "age AS last_replay "
    "FROM (SELECT pg_last_wal_receive_lsn() AS receive_lsn, pg_last_wal_replay_lsn() AS replay_lsn, "
    "  extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS age) s";

void collect_lag(const Context& ctx, metrics::Sink& out) {
  if (!ctx.in_recovery) {
    // A primary lags behind nobody. No last_replay: after a promotion
    // pg_last_xact_replay_timestamp() keeps its old value and would grow forever.
    out.gauge("pg_replication_lag_seconds", "Replication lag behind the primary, in seconds.").add(0);
    return;
  }
  emit_rows(ctx.query(kStandbyLagSql), out, {},
            {
                {"lag", "pg_replication_lag_seconds", G,
                 "Replication lag behind the primary, in seconds (0 when all received WAL is replayed)."},
                {"last_replay", "pg_replication_last_replay_seconds", G,
                 "Age of the last transaction replayed, in seconds."},
            });
}

// One row per walsender (standbys, pg_basebackup, pg_receivewal; on a standby
// the cascaded ones). Two walsenders can share every label (same host, same
// application_name, no slot): DISTINCT ON keeps one, the furthest behind, so
// the exposition never holds a duplicate series. pg_stat_replication's own
// joins, but pg_stat_get_activity() asked for each walsender's pid: the view
// builds every backend's row (300 connections: most of this collector's time).
void collect_walsenders(const std::string& current_lsn, const Context& ctx, metrics::Sink& out) {
  auto lsn_diff = [&](const char* lsn, const char* as) {
    return "pg_wal_lsn_diff(" + current_lsn + ", " + lsn + ") AS " + as + ", ";
  };
  std::string sql =
      "SELECT DISTINCT ON (application_name, client_addr, state, sync_state, slot_name) * FROM ("
      "SELECT r.application_name, coalesce(host(r.client_addr), '') AS client_addr, r.state, r.sync_state, "
      "coalesce(s.slot_name::text, '') AS slot_name, r.flush_lsn, r.replay_lsn, " +
      lsn_diff("'0/0'", "current_lsn_bytes") + lsn_diff("r.sent_lsn", "sent_lag_bytes") +
      lsn_diff("r.write_lsn", "write_lag_bytes") + lsn_diff("r.flush_lsn", "flush_lag_bytes") +
      lsn_diff("r.replay_lsn", "replay_lag_bytes") +
      "extract(epoch FROM r.write_lag) AS write_lag_seconds, "
      "extract(epoch FROM r.flush_lag) AS flush_lag_seconds, "
      "extract(epoch FROM r.replay_lag) AS replay_lag_seconds, "
      "CASE WHEN r.reply_time IS NOT NULL THEN greatest(0, extract(epoch FROM now() - r.reply_time)) END "
      "AS reply_age "
      "FROM (SELECT w.*, a.application_name, a.client_addr FROM pg_stat_get_wal_senders() w "
      "  CROSS JOIN LATERAL pg_stat_get_activity(w.pid) a) r "
      "LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid) w "
      "ORDER BY application_name, client_addr, state, sync_state, slot_name, replay_lsn NULLS LAST, "
      "flush_lsn NULLS LAST";
  emit_rows(
      ctx.query(sql.c_str()), out, {"application_name", "client_addr", "state", "sync_state", "slot_name"},
      {
          {"current_lsn_bytes", "pg_stat_replication_pg_current_wal_lsn_bytes", G,
           "WAL position of this server (on a standby: furthest received or replayed), in bytes."},
          {"replay_lag_bytes", "pg_stat_replication_pg_wal_lsn_diff", G,
           "WAL not yet replayed by the standby, in bytes (same as pg_stat_replication_replay_lag_bytes)."},
          {"sent_lag_bytes", "pg_stat_replication_sent_lag_bytes", G,
           "WAL not yet sent to the standby, in bytes."},
          {"write_lag_bytes", "pg_stat_replication_write_lag_bytes", G,
           "WAL not yet written by the standby, in bytes."},
          {"flush_lag_bytes", "pg_stat_replication_flush_lag_bytes", G,
           "WAL not yet flushed by the standby, in bytes."},
          {"replay_lag_bytes", "pg_stat_replication_replay_lag_bytes", G,
           "WAL not yet replayed by the standby, in bytes."},
          {"write_lag_seconds", "pg_stat_replication_write_lag_seconds", G,
           "Time between flushing recent WAL locally and the standby reporting it written, in seconds."},
          {"flush_lag_seconds", "pg_stat_replication_flush_lag_seconds", G,
           "Time between flushing recent WAL locally and the standby reporting it flushed, in seconds."},
          {"replay_lag_seconds", "pg_stat_replication_replay_lag_seconds", G,
           "Time between flushing recent WAL locally and the standby reporting it replayed, in seconds."},
          {"reply_age", "pg_stat_replication_reply_time", G,
           "Seconds since the last reply from the standby (0 if its clock is ahead)."},
      });
}

void collect_slots(const std::string& current_lsn, const Context& ctx, metrics::Sink& out) {
  // restart_lsn is NULL for a slot that reserves no WAL: no retained sample.
  // confirmed_flush_lsn is NULL for physical slots, safe_wal_size without
  // max_slot_wal_keep_size, wal_status without restart_lsn: absent, never 0
  // (postgres_exporter reports a physical slot's confirmed flush as 0).
  std::string sql =
      "SELECT slot_name::text AS slot_name, slot_type, coalesce(database::text, '') AS database, active, "
      "pg_wal_lsn_diff(" +
      current_lsn + ", restart_lsn) AS retained_bytes, pg_wal_lsn_diff(" + current_lsn +
      ", '0/0') AS current_lsn_bytes, "
      "pg_wal_lsn_diff(confirmed_flush_lsn, '0/0') AS confirmed_flush_lsn_bytes, safe_wal_size, "
      "coalesce(wal_status, '') AS wal_status, CASE WHEN wal_status IS NOT NULL THEN 1 END AS "
      "wal_status_set, "
      "age(xmin) AS xmin_age, age(catalog_xmin) AS catalog_xmin_age "
      "FROM pg_replication_slots";
  pgx::ResultSet rs = ctx.query(sql.c_str());
  emit_rows(
      rs, out, {"slot_name", "slot_type", "database"},
      {
          {"active", "pg_replication_slots_active", G, "Whether the replication slot is in use (1 = yes)."},
          {"retained_bytes", "pg_replication_slots_pg_wal_lsn_diff", G,
           "WAL retained by the replication slot (current LSN - restart_lsn), in bytes."},
          // The slot holds back vacuum everywhere (physical with
          // hot_standby_feedback) or in the catalogs (logical): the mixin's
          // alert on a slot's xmin age reads this.
          {"xmin_age", "pg_replication_slots_xmin_age", G,
           "Age of the oldest transaction the slot keeps vacuum from removing, in transactions."},
          {"catalog_xmin_age", "pg_replication_slots_catalog_xmin_age", G,
           "Age of the oldest catalog transaction the slot keeps vacuum from removing, in transactions."},
      });
  // postgres_exporter's replication_slot collector: {slot_name, slot_type}.
  // Unlike it, a logical slot's confirmed flush position is exported even
  // while the slot is inactive (an abandoned consumer is what one looks for).
  emit_rows(rs, out, {"slot_name", "slot_type"},
            {
                {"current_lsn_bytes", "pg_replication_slots_slot_current_wal_lsn", G,
                 "WAL position of this server (on a standby: furthest received or replayed), in bytes."},
                {"confirmed_flush_lsn_bytes", "pg_replication_slots_slot_confirmed_flush_lsn", G,
                 "Last WAL position the logical slot's consumer confirmed, in bytes."},
                {"active", "pg_replication_slots_slot_is_active", G,
                 "Whether the replication slot is in use (1 = yes)."},
                {"safe_wal_size", "pg_replication_slots_safe_wal_size_bytes", G,
                 "WAL that can still be written before this slot is in danger of being lost, in bytes."},
            });
  emit_rows(rs, out, {"slot_name", "slot_type", "wal_status"},
            {
                {"wal_status_set", "pg_replication_slots_wal_status", G,
                 "Availability of the WAL the slot claims (reserved, extended, unreserved, lost): 1 on the "
                 "current status."},
            });
}

void collect_replication(const Context& ctx, metrics::Sink& out) {
  collect_lag(ctx, out);
  const std::string current_lsn = ctx.in_recovery
                                      ? "greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())"
                                      : "pg_current_wal_lsn()";
  collect_walsenders(current_lsn, ctx, out);
  collect_slots(current_lsn, ctx, out);
}

}  // namespace

extern const Collector replication_collector = {
    "replication",
    "Replication lag (standby), per-standby WAL lag (pg_stat_replication), replication slots.",
    true,
    true,
    0,
    0,
    &collect_replication};

}  // namespace collectors
