// Per-function call counts and times (pg_stat_user_functions). No exporter
// we follow has these families: named pg_stat_user_functions_* with _total on
// counters and times converted from milliseconds to seconds.
//
// On by default: PostgreSQL only tracks functions when track_functions is set
// to 'pl' or 'all' (default 'none'), so by default this exports nothing; a
// server where someone turned tracking on wants the numbers. The query
// passes over pg_proc with a statistics lookup per function (half a
// millisecond); it is skipped when the scrape's statistics pass found no
// function entry in the database.
//
// Overloaded functions share schema and name: their statistics are summed, so
// that the label set {datname, schemaname, funcname} stays unique (duplicate
// series would make Prometheus reject the whole scrape) and argument types
// never become labels.
#include "collectors/collector.h"

namespace collectors {

namespace {

constexpr auto C = prometheus::MetricType::Counter;

// pg_stat_user_functions' own filter: prolang 12 is "internal" (built-ins);
// a NULL call count means "never called while tracked". Like the table
// collectors, the system schemas' SQL functions and our own are left out; the
// schemas by oid too, so that the scan of pg_proc drops them before the
// statistics lookup (a cheaper qual runs first): a third of the query's time.
constexpr const char* kSql =
    "SELECT current_database() AS datname, n.nspname AS schemaname, p.proname AS funcname,"
    "  sum(pg_stat_get_function_calls(p.oid)) AS calls,"
    "  sum(pg_stat_get_function_total_time(p.oid)) AS total_time,"
    "  sum(pg_stat_get_function_self_time(p.oid)) AS self_time "
    "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE p.prolang <> 12"
    "  AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)"
    "  AND pg_stat_get_function_calls(p.oid) IS NOT NULL"
    "  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgexporter') "
    "GROUP BY n.nspname, p.proname";

pgx::ResultSet no_rows() {
  pgx::ResultSet rs;
  const char* const columns[] = {"datname", "schemaname", "funcname", "calls", "total_time", "self_time"};
  rs.reset(6);
  for (size_t c = 0; c < 6; c++) rs.set_column_name(c, columns[c]);
  return rs;
}

void collect_functions(const Context& ctx, metrics::Sink& out) {
  // The tables collector's pass over the statistics counted the database's
  // function entries: with none (track_functions is 'none' by default) the
  // scan of pg_proc would find nothing.
  const bool none = *ctx.function_stats_entries == 0;
  emit_rows(
      none ? no_rows() : ctx.query(kSql), out, {"datname", "schemaname", "funcname"},
      {
          {"calls", "pg_stat_user_functions_calls_total", C, "Number of times this function was called."},
          {"total_time", "pg_stat_user_functions_total_time_seconds_total", C,
           "Time spent in this function and all functions it called, in seconds.", 0.001},
          {"self_time", "pg_stat_user_functions_self_time_seconds_total", C,
           "Time spent in this function itself, not counting the functions it called, in seconds.", 0.001},
      });
}

}  // namespace

extern const Collector functions_collector = {
    "functions",
    "Per-function calls and time (pg_stat_user_functions); empty unless track_functions is 'pl' or 'all'.",
    true,
    true,
    0,
    0,
    &collect_functions};

}  // namespace collectors
