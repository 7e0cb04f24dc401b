// postgres_exporter's pg_buffercache_summary_* gauges. Off by default: the
// pg_buffercache extension reads every shared buffer header on each scrape
// (and before 1.4 its view materialises one row per buffer).
//
// The extension is optional and relocatable: no extension in the worker's
// database is success with no samples, and its schema is looked up. The
// summary function exists from extension 1.4 (PostgreSQL 16); an older
// extension gets the same five numbers from the pg_buffercache view, where an
// unused buffer is the row with a NULL relfilenode (its other columns are NULL
// too, so the average usage count is over used buffers, as in the function).
#include <string>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

std::string buffercache_sql(int extension_version, const std::string& schema) {
  if (extension_version < 100 || schema.empty()) return "";
  if (extension_version >= 104) {
    return "SELECT buffers_used, buffers_unused, buffers_dirty, buffers_pinned, usagecount_avg FROM " +
           schema + ".pg_buffercache_summary()";
  }
  // pinning_backends appeared in 1.1.
  const std::string pinned =
      extension_version >= 101 ? "count(*) FILTER (WHERE b.pinning_backends > 0)" : "NULL::bigint";
  return "SELECT count(*) FILTER (WHERE b.relfilenode IS NOT NULL) AS buffers_used, "
         "count(*) FILTER (WHERE b.relfilenode IS NULL) AS buffers_unused, "
         "count(*) FILTER (WHERE b.isdirty) AS buffers_dirty, " +
         pinned +
         " AS buffers_pinned, "
         "avg(b.usagecount) AS usagecount_avg FROM " +
         schema + ".pg_buffercache b";
}

namespace {

constexpr auto G = prometheus::MetricType::Gauge;

constexpr const char* kProbe =
    "SELECT quote_ident(n.nspname) AS schema, e.extversion AS version "
    "FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'pg_buffercache'";

void collect_buffercache(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet probe = ctx.query(kProbe);
  if (probe.rows() == 0) return;  // not installed here: nothing to export
  const int schema_c = probe.column("schema"), version_c = probe.column("version");
  if (schema_c < 0 || version_c < 0)
    throw std::runtime_error("pg_buffercache probe returned unexpected columns");
  const std::string_view version_text = probe.text(0, static_cast<size_t>(version_c));
  const std::string sql = buffercache_sql(parse_extension_version(version_text),
                                          std::string(probe.text(0, static_cast<size_t>(schema_c))));
  if (sql.empty()) {
    throw std::runtime_error("unsupported pg_buffercache version \"" + std::string(version_text) + "\"");
  }
  emit_rows(
      ctx.query(sql.c_str()), out, {},
      {
          {"buffers_used", "pg_buffercache_summary_buffers_used", G, "Number of used shared buffers."},
          {"buffers_unused", "pg_buffercache_summary_buffers_unused", G, "Number of unused shared buffers."},
          {"buffers_dirty", "pg_buffercache_summary_buffers_dirty", G, "Number of dirty shared buffers."},
          {"buffers_pinned", "pg_buffercache_summary_buffers_pinned", G, "Number of pinned shared buffers."},
          {"usagecount_avg", "pg_buffercache_summary_usagecount_avg", G,
           "Average usage count of used shared buffers."},
      });
}

}  // namespace

extern const Collector buffercache_collector = {"buffercache",
                                                "Shared buffer usage summary from the pg_buffercache "
                                                "extension (if installed in the exporter's database); "
                                                "reads every buffer header, so off by default.",
                                                false,
                                                true,
                                                0,
                                                0,
                                                &collect_buffercache};

}  // namespace collectors
