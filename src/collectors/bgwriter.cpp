// Background writer and checkpointer counters, under postgres_exporter's names
// for each layout: PostgreSQL 17 moved the checkpointer's columns from
// pg_stat_bgwriter to pg_stat_checkpointer (and dropped buffers_backend*);
// 18 added num_done and slru_written. The queries come from bgwriter_sql()
// (unit-tested per version); a metric whose column a version lacks adds no
// family. Write/sync times stay in milliseconds under postgres_exporter's
// names (the HELP says so). On 17+ they are also exported in seconds under
// the Rust crate's *_seconds_total names, which that crate fills with
// milliseconds (a known unit bug): here they really are seconds.
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

BgwriterSql bgwriter_sql(int server_version) {
  BgwriterSql sql;
  if (server_version < 170000) {
    sql.bgwriter =
        "SELECT checkpoints_timed, checkpoints_req, checkpoint_write_time, checkpoint_sync_time, "
        "buffers_checkpoint, buffers_clean, maxwritten_clean, buffers_backend, buffers_backend_fsync, "
        "buffers_alloc, extract(epoch FROM stats_reset) AS stats_reset FROM pg_stat_bgwriter";
    return sql;
  }
  sql.bgwriter =
      "SELECT buffers_clean, maxwritten_clean, buffers_alloc, "
      "extract(epoch FROM stats_reset) AS stats_reset FROM pg_stat_bgwriter";
  sql.checkpointer =
      "SELECT num_timed, num_requested, restartpoints_timed, restartpoints_req, restartpoints_done, "
      "write_time, sync_time, buffers_written, ";
  if (server_version >= 180000) sql.checkpointer += "num_done, slru_written, ";
  sql.checkpointer += "extract(epoch FROM stats_reset) AS stats_reset FROM pg_stat_checkpointer";
  return sql;
}

namespace {

constexpr auto C = prometheus::MetricType::Counter;

// pg_stat_bgwriter's checkpointer columns, before 17.
std::vector<ColumnMetric> legacy_checkpointer_metrics() {
  return {
      {"checkpoints_timed", "pg_stat_bgwriter_checkpoints_timed_total", C,
       "Scheduled checkpoints performed."},
      {"checkpoints_req", "pg_stat_bgwriter_checkpoints_req_total", C, "Requested checkpoints performed."},
      {"checkpoint_write_time", "pg_stat_bgwriter_checkpoint_write_time_total", C,
       "Time spent writing checkpoint files to disk, in milliseconds."},
      {"checkpoint_sync_time", "pg_stat_bgwriter_checkpoint_sync_time_total", C,
       "Time spent synchronizing checkpoint files to disk, in milliseconds."},
      {"buffers_checkpoint", "pg_stat_bgwriter_buffers_checkpoint_total", C,
       "Buffers written during checkpoints."},
      {"buffers_backend", "pg_stat_bgwriter_buffers_backend_total", C,
       "Buffers written directly by a backend."},
      {"buffers_backend_fsync", "pg_stat_bgwriter_buffers_backend_fsync_total", C,
       "Times a backend had to execute its own fsync call."},
  };
}

// The columns pg_stat_bgwriter has in every version.
std::vector<ColumnMetric> bgwriter_metrics() {
  return {
      {"buffers_clean", "pg_stat_bgwriter_buffers_clean_total", C,
       "Buffers written by the background writer."},
      {"maxwritten_clean", "pg_stat_bgwriter_maxwritten_clean_total", C,
       "Times the background writer stopped a cleaning scan because it had written too many buffers."},
      {"buffers_alloc", "pg_stat_bgwriter_buffers_alloc_total", C, "Buffers allocated."},
      {"stats_reset", "pg_stat_bgwriter_stats_reset_total", C,
       "Time at which these statistics were last reset, in Unix seconds."},
  };
}

std::vector<ColumnMetric> checkpointer_metrics() {
  return {
      {"num_timed", "pg_stat_checkpointer_num_timed_total", C, "Scheduled checkpoints performed."},
      {"num_requested", "pg_stat_checkpointer_num_requested_total", C, "Requested checkpoints performed."},
      {"restartpoints_timed", "pg_stat_checkpointer_restartpoints_timed_total", C,
       "Scheduled restartpoints."},
      {"restartpoints_req", "pg_stat_checkpointer_restartpoints_req_total", C, "Requested restartpoints."},
      {"restartpoints_done", "pg_stat_checkpointer_restartpoints_done_total", C, "Restartpoints performed."},
      {"write_time", "pg_stat_checkpointer_write_time_total", C,
       "Time spent writing checkpoint and restartpoint files to disk, in milliseconds."},
      {"sync_time", "pg_stat_checkpointer_sync_time_total", C,
       "Time spent synchronizing checkpoint and restartpoint files to disk, in milliseconds."},
      {"buffers_written", "pg_stat_checkpointer_buffers_written_total", C,
       "Buffers written during checkpoints and restartpoints."},
      {"stats_reset", "pg_stat_checkpointer_stats_reset_total", C,
       "Time at which these statistics were last reset, in Unix seconds."},
      {"write_time", "pg_stat_checkpointer_write_time_seconds_total", C,
       "Time spent writing checkpoint and restartpoint files to disk, in seconds.", 0.001},
      {"sync_time", "pg_stat_checkpointer_sync_time_seconds_total", C,
       "Time spent synchronizing checkpoint and restartpoint files to disk, in seconds.", 0.001},
      // PostgreSQL 18+.
      {"num_done", "pg_stat_checkpointer_num_done_total", C, "Checkpoints completed (timed or requested)."},
      {"slru_written", "pg_stat_checkpointer_slru_written_total", C,
       "SLRU buffers written during checkpoints and restartpoints."},
  };
}

void collect_bgwriter(const Context& ctx, metrics::Sink& out) {
  const BgwriterSql sql = bgwriter_sql(ctx.server_version);
  pgx::ResultSet rs = ctx.query(sql.bgwriter.c_str());
  emit_rows(rs, out, {}, legacy_checkpointer_metrics());  // columns present before 17 only
  emit_rows(rs, out, {}, bgwriter_metrics());
  if (!sql.checkpointer.empty())
    emit_rows(ctx.query(sql.checkpointer.c_str()), out, {}, checkpointer_metrics());
}

}  // namespace

extern const Collector bgwriter_collector = {
    "bgwriter",
    "Background writer and checkpointer counters (pg_stat_bgwriter; pg_stat_checkpointer on 17+).",
    true,
    true,
    0,
    0,
    &collect_bgwriter};

}  // namespace collectors
