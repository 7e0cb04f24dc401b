// pg_stat_statements, top N statements by total execution time
// (pg_exporter.statements_limit, default 100), under postgres_exporter's
// names and labels {user, datname, queryid} plus the Rust crate's richer set
// (without its defective postgres_ prefix).
//
// Why it is written this way:
// - The extension is optional: no pg_stat_statements in the worker's database
//   is success with no samples. Its schema is looked up (it is relocatable),
//   never assumed to be public.
// - Columns follow the *installed extension* version, not the server version:
//   a server upgraded without ALTER EXTENSION UPDATE keeps the old columns
//   (1.8 renamed total_time, 1.11 renamed blk_read_time).
// - It reads pg_stat_statements(false): without query texts PostgreSQL does not
//   load the query-text file. The query text is not a label by default
//   (cardinality, secrets in literals). Like postgres_exporter's
//   --collector.stat_statements.include_query, pg_exporter.statements_query_length
//   > 0 opts in to its pg_stat_statements_query_id{queryid, query} 1 family:
//   the first N characters of each exported statement's text, one series per
//   queryid, read in a second query restricted to those queryids.
// - Entries are keyed by (user, database, queryid, toplevel) since 1.9: under
//   pg_stat_statements.track = all the same statement can appear twice, which
//   would be two samples with one label set. They are summed per label set
//   (mean and stddev recombined exactly, max of max).
// - Counters are counters with _total; the per-statement mean/max/stddev are
//   gauges. Times are converted from milliseconds to seconds.
// - A role without pg_read_all_stats gets NULL queryids for other roles'
//   entries: those rows are skipped rather than exported as queryid="".
// - The limit is the GUC pg_exporter.statements_limit read with
//   current_setting() in the probe query, so the collector needs nothing from
//   the framework beyond ctx.query(). The pg_stat_statements library must be in
//   shared_preload_libraries: an installed but unloaded extension is an error
//   (the collector fails and says why), not a silent absence.
// - Label values (user and database names, query texts) that are not valid
//   UTF-8 are repaired by the sink.
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

int parse_extension_version(std::string_view text) {
  // "1.10" -> 110, "1.11beta" -> 111; without digits '.' digits at the start
  // (empty, "1", "1.x", "v1.2") -1.
  size_t i = 0;
  int major = 0, minor = 0;
  if (i >= text.size() || text[i] < '0' || text[i] > '9') return -1;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    major = major * 10 + (text[i] - '0');
    if (major > 999) return -1;
    i++;
  }
  if (i >= text.size() || text[i] != '.') return -1;
  i++;
  if (i >= text.size() || text[i] < '0' || text[i] > '9') return -1;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    minor = minor * 10 + (text[i] - '0');
    if (minor > 99) return -1;
    i++;
  }
  return major * 100 + minor;
}

std::string statements_sql(int extension_version, const std::string& schema, int limit) {
  const int v = extension_version;
  if (v < 102 || schema.empty()) return "";  // no queryid / showtext before 1.2
  const bool v18 = v >= 108, v110 = v >= 110, v111 = v >= 111;
  const std::string total = v18 ? "s.total_exec_time" : "s.total_time";
  const std::string mean = v18 ? "s.mean_exec_time" : "s.mean_time";
  const std::string max = v18 ? "s.max_exec_time" : "s.max_time";
  const std::string stddev = v18 ? "s.stddev_exec_time" : "s.stddev_time";
  const std::string blk_read = v111 ? "s.shared_blk_read_time" : "s.blk_read_time";
  const std::string blk_write = v111 ? "s.shared_blk_write_time" : "s.blk_write_time";
  const std::string calls = "nullif(sum(s.calls), 0)";

  std::string sql =
      "SELECT pg_get_userbyid(s.userid) AS \"user\", d.datname, s.queryid::text AS queryid, "
      "sum(s.calls) AS calls, sum(s.rows) AS rows, ";
  sql += "sum(" + total + ") / 1000 AS seconds, ";
  sql += "sum(" + blk_read + ") / 1000 AS block_read_seconds, ";
  sql += "sum(" + blk_write + ") / 1000 AS block_write_seconds, ";
  // One entry: its own mean and stddev. Several (toplevel and nested): the
  // pooled population mean and stddev of all their executions.
  sql += "CASE WHEN count(*) = 1 THEN max(" + mean + ") ELSE sum(" + total + ") / " + calls +
         " END / 1000 AS mean_exec_seconds, ";
  sql += "max(" + max + ") / 1000 AS max_exec_seconds, ";
  sql += "CASE WHEN count(*) = 1 THEN max(" + stddev + ") ELSE sqrt(greatest(sum(s.calls * (" + stddev +
         " ^ 2 + " + mean + " ^ 2)) / " + calls + " - (sum(" + total + ") / " + calls +
         ") ^ 2, 0)) END / 1000 AS stddev_exec_seconds, ";
  sql +=
      "sum(s.shared_blks_hit) AS shared_blks_hit, sum(s.shared_blks_read) AS shared_blks_read, "
      "sum(s.shared_blks_dirtied) AS shared_blks_dirtied, sum(s.shared_blks_written) AS shared_blks_written, "
      "sum(s.local_blks_hit) AS local_blks_hit, sum(s.local_blks_read) AS local_blks_read, "
      "sum(s.local_blks_dirtied) AS local_blks_dirtied, sum(s.local_blks_written) AS local_blks_written, "
      "sum(s.temp_blks_read) AS temp_blks_read, sum(s.temp_blks_written) AS temp_blks_written, "
      "sum(s.shared_blks_hit)::float8 / nullif(sum(s.shared_blks_hit) + sum(s.shared_blks_read), 0) "
      "AS cache_hit_ratio";
  if (v18) {
    sql +=
        ", sum(s.total_plan_time) / 1000 AS plan_seconds, sum(s.wal_records) AS wal_records, "
        "sum(s.wal_fpi) AS wal_fpi, sum(s.wal_bytes) AS wal_bytes";
  }
  if (v110) {
    sql +=
        ", sum(s.temp_blk_read_time) / 1000 AS temp_block_read_seconds"
        ", sum(s.temp_blk_write_time) / 1000 AS temp_block_write_seconds"
        ", sum(s.jit_functions) AS jit_functions"
        ", sum(s.jit_generation_time + s.jit_inlining_time + s.jit_optimization_time + s.jit_emission_time";
    if (v111) sql += " + s.jit_deform_time";
    sql += ") / 1000 AS jit_seconds";
  }
  if (v111) {
    sql +=
        ", sum(s.local_blk_read_time) / 1000 AS local_block_read_seconds"
        ", sum(s.local_blk_write_time) / 1000 AS local_block_write_seconds";
  }
  if (v >= 112) {
    sql +=
        ", sum(s.wal_buffers_full) AS wal_buffers_full"
        ", sum(s.parallel_workers_to_launch) AS parallel_workers_to_launch"
        ", sum(s.parallel_workers_launched) AS parallel_workers_launched";
  }
  if (v >= 113) {
    sql += ", sum(s.generic_plan_calls) AS generic_plan_calls, sum(s.custom_plan_calls) AS custom_plan_calls";
  }
  sql += " FROM " + schema + ".pg_stat_statements(false) s JOIN pg_catalog.pg_database d ON d.oid = s.dbid";
  sql += " WHERE s.queryid IS NOT NULL GROUP BY s.userid, d.datname, s.queryid";
  sql += " ORDER BY sum(" + total + ") DESC, s.queryid LIMIT " + std::to_string(limit < 1 ? 1 : limit);
  return sql;
}

bool valid_queryid(std::string_view q) {
  if (q.empty() || q.size() > 20) return false;  // int8: at most 19 digits and a sign
  for (size_t i = 0; i < q.size(); i++) {
    if (!((q[i] >= '0' && q[i] <= '9') || (i == 0 && q[i] == '-' && q.size() > 1))) return false;
  }
  return true;
}

std::string statements_text_sql(int extension_version, const std::string& schema,
                                const std::vector<std::string>& queryids, int length) {
  std::string ids;
  for (const std::string& q : queryids) {
    if (!valid_queryid(q)) continue;  // never let anything but an integer into the SQL
    if (!ids.empty()) ids += ',';
    ids += q;
  }
  if (ids.empty() || schema.empty() || length < 1 || extension_version < 102) return "";
  // One text per queryid, the same one on every scrape: entries of one queryid
  // can differ in text (nested plpgsql statements lose their INTO, other users
  // or databases may spell it differently). Top-level first, then the most run.
  return "SELECT DISTINCT ON (s.queryid) s.queryid::text AS queryid, left(s.query, " +
         std::to_string(length) + ") AS query FROM " + schema +
         ".pg_stat_statements(true) s WHERE s.queryid = ANY('{" + ids +
         "}'::bigint[]) AND s.query IS NOT NULL ORDER BY s.queryid" +
         (extension_version >= 109 ? ", s.toplevel DESC" : "") + ", s.calls DESC, s.query";
}

std::string statements_info_sql(int extension_version, const std::string& schema) {
  if (extension_version < 109 || schema.empty()) return "";
  return "SELECT dealloc FROM " + schema + ".pg_stat_statements_info";
}

namespace {

constexpr auto C = prometheus::MetricType::Counter;
constexpr auto G = prometheus::MetricType::Gauge;
constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 10000;  // the GUC's own bound

constexpr int kMaxQueryLength = 4096;

// The extension in this database (schema already quoted), and the settings.
constexpr const char* kProbe =
    "SELECT quote_ident(n.nspname) AS schema, e.extversion AS version, "
    "current_setting('pg_exporter.statements_limit', true) AS statements_limit, "
    "current_setting('pg_exporter.statements_query_length', true) AS query_length "
    "FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'pg_stat_statements'";

void collect_statements(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet probe = ctx.query(kProbe);
  if (probe.rows() == 0) return;  // not installed here: nothing to export
  const std::string schema(probe.text(0, probe.require("schema")));
  const std::string_view version_text = probe.text(0, probe.require("version"));
  const int version = parse_extension_version(version_text);
  int limit = kDefaultLimit;
  if (auto l = probe.number(0, probe.require("statements_limit"))) {
    limit = *l < 1 ? 1 : *l > kMaxLimit ? kMaxLimit : static_cast<int>(*l);
  }
  int query_length = 0;
  if (auto l = probe.number(0, probe.require("query_length"))) {
    query_length = *l < 0 ? 0 : *l > kMaxQueryLength ? kMaxQueryLength : static_cast<int>(*l);
  }
  const std::string sql = statements_sql(version, schema, limit);
  if (sql.empty()) {
    throw std::runtime_error("unsupported pg_stat_statements version \"" + std::string(version_text) +
                             "\" (1.2 or newer is needed)");
  }
  const pgx::ResultSet rs = ctx.query(sql.c_str());
  emit_rows(
      rs, out, {"user", "datname", "queryid"},
      {
          // postgres_exporter's families.
          {"calls", "pg_stat_statements_calls_total", C, "Number of times the statement was executed."},
          {"seconds", "pg_stat_statements_seconds_total", C,
           "Total time spent executing the statement, in seconds."},
          {"rows", "pg_stat_statements_rows_total", C,
           "Total number of rows retrieved or affected by the statement."},
          {"block_read_seconds", "pg_stat_statements_block_read_seconds_total", C,
           "Time the statement spent reading data file blocks (shared blocks only from PostgreSQL 17), in "
           "seconds (track_io_timing)."},
          {"block_write_seconds", "pg_stat_statements_block_write_seconds_total", C,
           "Time the statement spent writing data file blocks (shared blocks only from PostgreSQL 17), in "
           "seconds (track_io_timing)."},
          // The Rust pg_exporter's families.
          {"mean_exec_seconds", "pg_stat_statements_mean_exec_time_seconds", G,
           "Mean execution time of the statement, in seconds."},
          {"max_exec_seconds", "pg_stat_statements_max_exec_time_seconds", G,
           "Maximum execution time of the statement, in seconds."},
          {"stddev_exec_seconds", "pg_stat_statements_stddev_exec_time_seconds", G,
           "Population standard deviation of the statement's execution time, in seconds."},
          {"shared_blks_hit", "pg_stat_statements_shared_blks_hit_total", C,
           "Shared blocks found in the buffer cache."},
          {"shared_blks_read", "pg_stat_statements_shared_blks_read_total", C,
           "Shared blocks read into the buffer cache."},
          {"shared_blks_dirtied", "pg_stat_statements_shared_blks_dirtied_total", C,
           "Shared blocks dirtied."},
          {"shared_blks_written", "pg_stat_statements_shared_blks_written_total", C,
           "Shared blocks written."},
          {"local_blks_hit", "pg_stat_statements_local_blks_hit_total", C,
           "Local (temporary table) blocks found in the buffer cache."},
          {"local_blks_read", "pg_stat_statements_local_blks_read_total", C, "Local blocks read."},
          {"local_blks_dirtied", "pg_stat_statements_local_blks_dirtied_total", C, "Local blocks dirtied."},
          {"local_blks_written", "pg_stat_statements_local_blks_written_total", C, "Local blocks written."},
          {"temp_blks_read", "pg_stat_statements_temp_blks_read_total", C,
           "Temporary file blocks read (work_mem spills)."},
          {"temp_blks_written", "pg_stat_statements_temp_blks_written_total", C,
           "Temporary file blocks written (work_mem spills)."},
          {"wal_bytes", "pg_stat_statements_wal_bytes_total", C, "WAL generated by the statement, in bytes."},
          {"cache_hit_ratio", "pg_stat_statements_cache_hit_ratio", G,
           "Shared blocks hit / (hit + read) for the statement; absent when it touched no shared block."},
          // New, same style (extension 1.8+ / 1.10+ / 1.11+; absent columns add no family).
          {"plan_seconds", "pg_stat_statements_plan_seconds_total", C,
           "Total time spent planning the statement, in seconds (pg_stat_statements.track_planning)."},
          {"wal_records", "pg_stat_statements_wal_records_total", C,
           "WAL records generated by the statement."},
          {"wal_fpi", "pg_stat_statements_wal_fpi_total", C,
           "WAL full page images generated by the statement."},
          {"temp_block_read_seconds", "pg_stat_statements_temp_block_read_seconds_total", C,
           "Time the statement spent reading temporary file blocks, in seconds (track_io_timing)."},
          {"temp_block_write_seconds", "pg_stat_statements_temp_block_write_seconds_total", C,
           "Time the statement spent writing temporary file blocks, in seconds (track_io_timing)."},
          {"local_block_read_seconds", "pg_stat_statements_local_block_read_seconds_total", C,
           "Time the statement spent reading local blocks, in seconds (track_io_timing)."},
          {"local_block_write_seconds", "pg_stat_statements_local_block_write_seconds_total", C,
           "Time the statement spent writing local blocks, in seconds (track_io_timing)."},
          {"wal_buffers_full", "pg_stat_statements_wal_buffers_full_total", C,
           "Times the WAL buffers were full while the statement ran (PostgreSQL 18)."},
          {"parallel_workers_to_launch", "pg_stat_statements_parallel_workers_to_launch_total", C,
           "Parallel workers the statement's plans asked for (PostgreSQL 18)."},
          {"parallel_workers_launched", "pg_stat_statements_parallel_workers_launched_total", C,
           "Parallel workers actually launched for the statement (PostgreSQL 18)."},
          {"generic_plan_calls", "pg_stat_statements_generic_plan_calls_total", C,
           "Executions of the statement with a generic plan (PostgreSQL 19)."},
          {"custom_plan_calls", "pg_stat_statements_custom_plan_calls_total", C,
           "Executions of the statement with a custom plan (PostgreSQL 19)."},
          {"jit_functions", "pg_stat_statements_jit_functions_total", C,
           "Functions JIT-compiled for the statement."},
          {"jit_seconds", "pg_stat_statements_jit_seconds_total", C,
           "Time spent JIT-compiling the statement (generation, inlining, optimization, emission, "
           "deform), in seconds."},
      });
  if (query_length > 0) {
    std::vector<std::string> ids;
    const size_t queryid_c = rs.require("queryid");
    for (size_t r = 0; r < rs.rows(); r++) ids.emplace_back(rs.text(r, queryid_c));
    const std::string text_sql = statements_text_sql(version, schema, ids, query_length);
    if (!text_sql.empty()) {
      const pgx::ResultSet texts = ctx.query(text_sql.c_str());
      const size_t id_c = texts.require("queryid"), query_c = texts.require("query");
      // postgres_exporter's name and type (a counter that is always 1).
      metrics::Family f = out.counter("pg_stat_statements_query_id", "SQL Query to queryid mapping");
      for (size_t r = 0; r < texts.rows(); r++) {
        f.add({{"queryid", texts.text(r, id_c)}, {"query", texts.text(r, query_c)}}, 1);
      }
    }
  }
  // Entries evicted to make room (pg_stat_statements.max): when this grows,
  // statements come and go and their counters restart.
  const std::string info_sql = statements_info_sql(version, schema);
  if (!info_sql.empty()) {
    emit_rows(ctx.query(info_sql.c_str()), out, {},
              {{"dealloc", "pg_stat_statements_info_dealloc_total", C,
                "Times the least-executed pg_stat_statements entries were evicted because "
                "pg_stat_statements.max was reached."}});
  }
}

}  // namespace

extern const Collector statements_collector = {
    "statements",
    "Top statements by total execution time from pg_stat_statements (if installed in the exporter's "
    "database); pg_exporter.statements_limit sets how many.",
    true,
    true,
    0,
    0,
    &collect_statements};

}  // namespace collectors
