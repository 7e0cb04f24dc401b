// Cumulative statistics of tables and indexes read through the server's C API
// (pgstat_fetch_stat_tabentry), one lookup per relation. The same numbers as
// the pg_stat_get_* SQL functions, which cost one lookup and one function
// call per column: at 20,000 tables and 30 columns that was most of the
// tables collector's SQL time. No PostgreSQL header here.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pgx {

// As the pg_stat_get_* functions return them: counters are 0 and times NaN
// when the relation has no statistics entry (never used, or just reset).
struct RelationStats {
  int64_t numscans = 0;
  int64_t tuples_returned = 0;
  int64_t tuples_fetched = 0;
  int64_t tuples_inserted = 0;
  int64_t tuples_updated = 0;
  int64_t tuples_deleted = 0;
  int64_t tuples_hot_updated = 0;
  int64_t live_tuples = 0;
  int64_t dead_tuples = 0;
  int64_t mod_since_analyze = 0;
  int64_t blocks_fetched = 0;
  int64_t blocks_hit = 0;
  int64_t vacuum_count = 0;
  int64_t autovacuum_count = 0;
  int64_t analyze_count = 0;
  int64_t autoanalyze_count = 0;
  // Unix seconds (microsecond resolution); NaN when it never happened.
  double last_vacuum = NAN;
  double last_autovacuum = NAN;
  double last_analyze = NAN;
  double last_autoanalyze = NAN;
};

// The statistics of each relation in `oids`, from the current transaction's
// statistics snapshot (stats_fetch_consistency applies as for the SQL
// functions). Throws pgx::PgError if the server raises an error.
std::vector<RelationStats> relation_stats(const std::vector<uint32_t>& oids);

}  // namespace pgx
