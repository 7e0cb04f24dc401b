// I/O statistics (pg_stat_io, PostgreSQL 16+) per {backend_type, object,
// context}, named like the Rust crate's stat_io collector (pg_stat_io_*_total,
// times in seconds: the view counts milliseconds, and only with
// track_io_timing on). Combinations an operation cannot happen in are NULL in
// the view and absent here, never 0.
// PostgreSQL 18 counts bytes natively (read_bytes, write_bytes, extend_bytes)
// and dropped op_bytes; on 16/17 the byte counters are operations x op_bytes
// (each operation was exactly op_bytes then), so *_bytes_total means the same
// on every version. op_bytes itself is exported where it exists.
#include <string>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

std::string io_sql(int server_version) {
  if (server_version < 160000) return "";  // no pg_stat_io before 16
  std::string sql =
      "SELECT backend_type, object, context, reads, read_time, writes, write_time, writebacks, "
      "writeback_time, extends, extend_time, hits, evictions, reuses, fsyncs, fsync_time";
  if (server_version >= 180000) {
    sql += ", read_bytes, write_bytes, extend_bytes";
  } else {
    // numeric: a bigint product could overflow.
    sql +=
        ", op_bytes, reads::numeric * op_bytes AS read_bytes, writes::numeric * op_bytes AS write_bytes, "
        "extends::numeric * op_bytes AS extend_bytes";
  }
  sql += " FROM pg_stat_io";
  return sql;
}

namespace {

constexpr auto C = prometheus::MetricType::Counter;
constexpr auto G = prometheus::MetricType::Gauge;

void collect_io(const Context& ctx, metrics::Sink& out) {
  const std::string sql = io_sql(ctx.server_version);
  if (sql.empty()) return;
  emit_rows(ctx.query(sql.c_str()), out, {"backend_type", "object", "context"},
            {
                {"reads", "pg_stat_io_reads_total", C, "Read operations."},
                {"read_bytes", "pg_stat_io_read_bytes_total", C, "Data read, in bytes."},
                {"read_time", "pg_stat_io_read_time_seconds_total", C,
                 "Time spent in read operations, in seconds (0 unless track_io_timing is on).", 0.001},
                {"writes", "pg_stat_io_writes_total", C, "Write operations."},
                {"write_bytes", "pg_stat_io_write_bytes_total", C, "Data written, in bytes."},
                {"write_time", "pg_stat_io_write_time_seconds_total", C,
                 "Time spent in write operations, in seconds (0 unless track_io_timing is on).", 0.001},
                {"writebacks", "pg_stat_io_writebacks_total", C,
                 "Requests to the kernel to write data to permanent storage."},
                {"writeback_time", "pg_stat_io_writeback_time_seconds_total", C,
                 "Time spent in writeback operations, in seconds (0 unless track_io_timing is on).", 0.001},
                {"extends", "pg_stat_io_extends_total", C, "Relation extend operations."},
                {"extend_bytes", "pg_stat_io_extend_bytes_total", C, "Relations extended by, in bytes."},
                {"extend_time", "pg_stat_io_extend_time_seconds_total", C,
                 "Time spent in extend operations, in seconds (0 unless track_io_timing is on).", 0.001},
                {"hits", "pg_stat_io_hits_total", C, "Times a desired block was found in a shared buffer."},
                {"evictions", "pg_stat_io_evictions_total", C,
                 "Times a block was written out from a buffer to make it available for another use."},
                {"reuses", "pg_stat_io_reuses_total", C,
                 "Times an existing buffer in a size-limited ring buffer was reused."},
                {"fsyncs", "pg_stat_io_fsyncs_total", C, "fsync calls."},
                {"fsync_time", "pg_stat_io_fsync_time_seconds_total", C,
                 "Time spent in fsync operations, in seconds (0 unless track_io_timing is on).", 0.001},
                // PostgreSQL 16/17.
                {"op_bytes", "pg_stat_io_op_bytes", G,
                 "Bytes per unit of I/O read, written or extended (PostgreSQL 16/17)."},
            });
}

}  // namespace

extern const Collector io_collector = {
    "io",       "I/O statistics per backend type, object and context (pg_stat_io, 16+).",
    true,       true,
    160000,     0,
    &collect_io};

}  // namespace collectors
