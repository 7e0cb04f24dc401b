// Version-dependent SQL of the wal, bgwriter, wal_receiver, io and database
// collectors, for every supported server version (each also runs against its
// real server in CI: sql/*.sql and t/020 on 13 to 19).
#include <string>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"
#include "unit.h"

namespace {

bool has(const std::string& sql, const char* part) { return sql.find(part) != std::string::npos; }

const int kVersions[] = {130000, 140000, 150000, 160000, 170000, 180000, 190000};

}  // namespace

TEST(wal_stat_sql_per_version) {
  CHECK_EQ(collectors::wal_stat_sql(130000), "");  // no pg_stat_wal on 13
  for (int v : kVersions) {
    if (v < 140000) continue;
    std::string sql = collectors::wal_stat_sql(v);
    CHECK(has(sql, "FROM pg_stat_wal"));
    CHECK(has(sql, "wal_records, wal_fpi, wal_bytes, wal_buffers_full"));
    // 18 moved the write/sync columns to pg_stat_io.
    CHECK_EQ(has(sql, "wal_write, wal_sync, wal_write_time, wal_sync_time"), v < 180000);
    CHECK_EQ(has(sql, "wal_fpi_bytes"), v >= 190000);
  }
}

TEST(bgwriter_sql_per_version) {
  for (int v : kVersions) {
    collectors::BgwriterSql sql = collectors::bgwriter_sql(v);
    CHECK(has(sql.bgwriter, "buffers_clean, maxwritten_clean"));
    CHECK(has(sql.bgwriter, "buffers_alloc"));
    CHECK(has(sql.bgwriter, "FROM pg_stat_bgwriter"));
    if (v < 170000) {
      CHECK(has(sql.bgwriter, "checkpoints_timed, checkpoints_req, checkpoint_write_time"));
      CHECK(has(sql.bgwriter, "buffers_backend, buffers_backend_fsync"));
      CHECK_EQ(sql.checkpointer, "");
    } else {
      CHECK(!has(sql.bgwriter, "checkpoint"));
      CHECK(!has(sql.bgwriter, "buffers_backend"));
      CHECK(has(sql.checkpointer, "num_timed, num_requested, restartpoints_timed"));
      CHECK(has(sql.checkpointer, "write_time, sync_time, buffers_written"));
      CHECK(has(sql.checkpointer, "FROM pg_stat_checkpointer"));
      CHECK_EQ(has(sql.checkpointer, "num_done, slru_written"), v >= 180000);
    }
  }
}

TEST(wal_receiver_sql_per_version) {
  for (int v : kVersions) {
    std::string sql = collectors::wal_receiver_sql(v);
    CHECK(has(sql, "FROM pg_stat_wal_receiver"));
    // flushed_lsn from 13 on (12's received_lsn is gone); runs against each
    // version's standby in t/011_replication_more.pl.
    CHECK(has(sql, " flushed_lsn - '0/0'::pg_lsn AS flushed_lsn"));
    CHECK(!has(sql, "received_lsn"));
    CHECK(has(sql, "AS upstream_host"));
    CHECK(has(sql, "AS slot_name"));
    CHECK(has(sql, "AS status"));
  }
}

TEST(io_sql_per_version) {
  CHECK_EQ(collectors::io_sql(130000), "");
  CHECK_EQ(collectors::io_sql(150000), "");
  for (int v : kVersions) {
    if (v < 160000) continue;
    std::string sql = collectors::io_sql(v);
    CHECK(has(sql, "SELECT backend_type, object, context, reads, read_time"));
    CHECK(has(sql, "hits, evictions, reuses, fsyncs, fsync_time"));
    CHECK(has(sql, "FROM pg_stat_io"));
    // 18: native byte columns, op_bytes gone; 16/17: bytes = ops x op_bytes.
    CHECK_EQ(has(sql, "op_bytes"), v < 180000);
    CHECK_EQ(has(sql, ", read_bytes, write_bytes, extend_bytes"), v >= 180000);
    CHECK_EQ(has(sql, "reads::numeric * op_bytes AS read_bytes"), v < 180000);
  }
}

TEST(io_collector_gated_to_16) {
  const collectors::Collector* io = collectors::find("io");
  CHECK(io != nullptr);
  if (!io) return;
  CHECK(io->enabled_by_default);
  for (int v : kVersions) CHECK_EQ(collectors::supports(*io, v), v >= 160000);
  CHECK(!collectors::supports(*io, 159999));
  CHECK(collectors::supports(*io, 160000));
}

TEST(wal_collectors_registered) {
  for (const char* name : {"wal", "archiver", "wal_receiver", "bgwriter", "replication"}) {
    const collectors::Collector* c = collectors::find(name);
    CHECK(c != nullptr);
    if (!c) continue;
    CHECK(c->enabled_by_default);
    for (int v : kVersions) CHECK(collectors::supports(*c, v));
  }
}

TEST(database_stat_sql_per_version) {
  for (int v : kVersions) {
    std::string sql = collectors::database_stat_sql(v);
    CHECK(has(sql, "FROM pg_stat_database WHERE datname IS NOT NULL"));
    CHECK(has(sql, "xact_commit, xact_rollback"));
    CHECK_EQ(has(sql, "session_time, active_time, idle_in_transaction_time"), v >= 140000);
    CHECK_EQ(has(sql, "parallel_workers_to_launch, parallel_workers_launched"), v >= 180000);
  }
}
