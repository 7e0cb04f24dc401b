// The standby's WAL receiver (pg_stat_wal_receiver) under postgres_exporter's
// stat_wal_receiver names, label set {upstream_host, slot_name, status} and
// types (its LSNs and timestamps are counters). Differences, on purpose:
// - Each value is emitted on its own, absent when NULL. postgres_exporter drops
//   the whole row when any column is NULL, and upstream_node is NULL unless the
//   slot is named by repmgr (repmgr_slot_<id>): outside repmgr it exported
//   nothing at all. A standby without a slot gets slot_name="".
// - The flushed position is flushed_lsn on every supported version (13
//   renamed 12's received_lsn and added written_lsn).
// - LSNs are not reduced modulo 2^52.
// No row (nothing emitted) on a primary or a standby without a WAL receiver.
#include <string>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

std::string wal_receiver_sql(int) {
  return "SELECT coalesce(trim(both '''' FROM substring(conninfo FROM 'host=([^ ]*)')), sender_host, '') "
         "AS upstream_host, coalesce(slot_name, '') AS slot_name, coalesce(status, '') AS status, "
         "receive_start_lsn - '0/0'::pg_lsn AS receive_start_lsn, receive_start_tli, "
         "flushed_lsn - '0/0'::pg_lsn AS flushed_lsn, received_tli, "
         "extract(epoch FROM last_msg_send_time) AS last_msg_send_time, "
         "extract(epoch FROM last_msg_receipt_time) AS last_msg_receipt_time, "
         "latest_end_lsn - '0/0'::pg_lsn AS latest_end_lsn, "
         "extract(epoch FROM latest_end_time) AS latest_end_time, "
         "substring(slot_name FROM '^repmgr_slot_([0-9]+)$') AS upstream_node "
         "FROM pg_stat_wal_receiver";
}

namespace {

constexpr auto C = prometheus::MetricType::Counter;
constexpr auto G = prometheus::MetricType::Gauge;

void collect_wal_receiver(const Context& ctx, metrics::Sink& out) {
  const std::string sql = wal_receiver_sql(ctx.server_version);
  emit_rows(ctx.query(sql.c_str()), out, {"upstream_host", "slot_name", "status"},
            {
                {"receive_start_lsn", "pg_stat_wal_receiver_receive_start_lsn", C,
                 "First WAL position used when the WAL receiver started, in bytes."},
                {"receive_start_tli", "pg_stat_wal_receiver_receive_start_tli", G,
                 "First timeline used when the WAL receiver started."},
                {"flushed_lsn", "pg_stat_wal_receiver_flushed_lsn", C,
                 "Last WAL position received and flushed to disk, in bytes."},
                {"received_tli", "pg_stat_wal_receiver_received_tli", G,
                 "Timeline of the last WAL position received and flushed to disk."},
                {"last_msg_send_time", "pg_stat_wal_receiver_last_msg_send_time", C,
                 "Send time of the last message received from the WAL sender, in Unix seconds."},
                {"last_msg_receipt_time", "pg_stat_wal_receiver_last_msg_receipt_time", C,
                 "Receipt time of the last message received from the WAL sender, in Unix seconds."},
                {"latest_end_lsn", "pg_stat_wal_receiver_latest_end_lsn", C,
                 "Last WAL position reported to the WAL sender, in bytes."},
                {"latest_end_time", "pg_stat_wal_receiver_latest_end_time", C,
                 "Time of the last WAL position reported to the WAL sender, in Unix seconds."},
                {"upstream_node", "pg_stat_wal_receiver_upstream_node", G,
                 "Node ID of the upstream node, from a repmgr slot name (absent otherwise)."},
            });
}

}  // namespace

extern const Collector wal_receiver_collector = {
    "wal_receiver",
    "The standby's WAL receiver (pg_stat_wal_receiver); nothing on a primary.",
    true,
    true,
    0,
    0,
    &collect_wal_receiver};

}  // namespace collectors
