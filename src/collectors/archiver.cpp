// WAL archiver (pg_stat_archiver) under postgres_exporter's names and, for
// users of the Rust crate, under its names too (the same values).
// The ages are ABSENT while the event never happened (NULL last_*_time):
// exporters that turned NULL into 0 reported "archived just now" on servers
// that had never archived anything. Ages are clamped at 0: the archiver may
// finish a file after this scrape's transaction started (now()).
#include "collectors/collector.h"

namespace collectors {

namespace {

constexpr auto C = prometheus::MetricType::Counter;
constexpr auto G = prometheus::MetricType::Gauge;

void collect_archiver(const Context& ctx, metrics::Sink& out) {
  emit_rows(
      ctx.query("SELECT archived_count, failed_count, "
                "CASE WHEN last_archived_time IS NOT NULL "
                "THEN greatest(0, extract(epoch FROM now() - last_archived_time)) END AS last_archived_age, "
                "CASE WHEN last_failed_time IS NOT NULL "
                "THEN greatest(0, extract(epoch FROM now() - last_failed_time)) END AS last_failed_age "
                "FROM pg_stat_archiver"),
      out, {},
      {
          {"archived_count", "pg_stat_archiver_archived_count", C,
           "Number of WAL files that have been successfully archived."},
          {"failed_count", "pg_stat_archiver_failed_count", C,
           "Number of failed attempts for archiving WAL files."},
          {"last_archived_age", "pg_stat_archiver_last_archive_age", G,
           "Time in seconds since the last WAL file was successfully archived (absent if never)."},
          {"archived_count", "pg_stat_archiver_archived_total", C,
           "WAL files successfully archived (same as pg_stat_archiver_archived_count)."},
          {"failed_count", "pg_stat_archiver_failed_total", C,
           "Failed attempts to archive WAL files (same as pg_stat_archiver_failed_count)."},
          {"last_archived_age", "pg_stat_archiver_last_archived_age_seconds", G,
           "Seconds since the last successful WAL archive (absent if never)."},
          {"last_failed_age", "pg_stat_archiver_last_failed_age_seconds", G,
           "Seconds since the last failed WAL archive attempt (absent if never)."},
      });
}

}  // namespace

extern const Collector archiver_collector = {
    "archiver", "WAL archiver counters and ages (pg_stat_archiver).", true, true, 0, 0, &collect_archiver};

}  // namespace collectors
