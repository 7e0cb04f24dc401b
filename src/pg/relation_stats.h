// Cumulative statistics of tables and indexes read through the server's C API,
// in one pass over its statistics entries per scrape. The same numbers as the
// pg_stat_get_* SQL functions, which cost one lookup and one function call
// per column: at 20,000 tables and 30 columns that was most of the tables
// collector's SQL time. No PostgreSQL header here.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pg/oid_map.h"

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

// The access counters of a relation: what an index, a TOAST table or its
// index contributes to the per-table and per-index series (40 bytes, where
// RelationStats is 160).
struct AccessCounters {
  int64_t numscans = 0, tuples_returned = 0, tuples_fetched = 0, blocks_fetched = 0, blocks_hit = 0;
};

// Which relations one pass over the statistics fills in, and where: each
// relation, named by its key in `keys` (an oid -> key map such as the
// relation catalog's rows, which must outlive the request), gets a slot of
// `full` (RelationStats) or of `counters`. The pass looks each entry up
// without allocating, and without a map of its own: 4 bytes a key.
class StatsRequest {
 public:
  StatsRequest(const OidMap& keys, size_t n_keys, size_t full, size_t counters)
      : full(full), counters(counters), keys_(&keys), full_(full), slot_of_(n_keys, OidMap::kNone) {}
  // Slot `slot` of full / counters receives the statistics of the relation
  // with key `key` (the first request of a key wins; a key past n_keys, such
  // as OidMap::kNone, is ignored).
  void want_full(uint32_t key, size_t slot) { put(key, static_cast<uint32_t>(slot)); }
  void want_counters(uint32_t key, size_t slot) { put(key, static_cast<uint32_t>(full_ + slot)); }
  std::vector<RelationStats> full;
  std::vector<AccessCounters> counters;
  // Filled by the pass too: how many functions of the database have
  // statistics (none: pg_stat_user_functions is empty).
  uint64_t function_entries = 0;
  // The slot of `oid` (full slots first), or OidMap::kNone.
  uint32_t find(uint32_t oid) const noexcept {
    const uint32_t key = keys_->find(oid);
    return key < slot_of_.size() ? slot_of_[key] : OidMap::kNone;
  }
  size_t full_slots() const { return full_; }

 private:
  void put(uint32_t key, uint32_t slot) {
    if (key < slot_of_.size() && slot_of_[key] == OidMap::kNone) slot_of_[key] = slot;
  }
  const OidMap* keys_;
  size_t full_;
  std::vector<uint32_t> slot_of_;
};

// Fills `request` in one pass over the server's statistics of the current
// database's relations, keeping no reference to them (compat/table_stats.h);
// a relation without statistics keeps its zeros. Throws pgx::PgError.
void scan_relation_stats(StatsRequest& request);

}  // namespace pgx
