// Version-dependent SQL of the vacuum collector, for every supported version.
#include <string>

#include "collectors/versioned_sql.h"
#include "unit.h"

namespace {
bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST(vacuum_progress_sql_by_version) {
  for (int v : {130000, 140000, 150000, 160000}) {
    std::string sql = collectors::vacuum_progress_sql(v);
    CHECK(has(sql, "p.max_dead_tuples, p.num_dead_tuples"));
    CHECK(!has(sql, "dead_tuple_bytes"));
    CHECK(!has(sql, "num_dead_item_ids"));
    CHECK(!has(sql, "indexes_total"));
    CHECK(!has(sql, "delay_time"));
  }
  for (int v : {170000, 170005, 180000, 189999}) {
    std::string sql = collectors::vacuum_progress_sql(v);
    CHECK(!has(sql, "max_dead_tuples"));
    CHECK(!has(sql, "num_dead_tuples"));
    CHECK(has(sql,
              "p.max_dead_tuple_bytes, p.dead_tuple_bytes, p.num_dead_item_ids, p.indexes_total, "
              "p.indexes_processed"));
    CHECK_EQ(has(sql, "p.delay_time / 1000"), v >= 180000);
    CHECK_EQ(has(sql, "track_cost_delay_timing"), v >= 180000);
  }
  for (int v : {130000, 140000, 150000, 160000, 170000, 180000}) {
    std::string sql = collectors::vacuum_progress_sql(v);
    // Columns every version's families read.
    for (const char* c : {"heap_blks_total", "heap_blks_scanned", "heap_blks_vacuumed", "index_vacuum_count",
                          "AS relname", "AS datname", "p.phase", "AS \"table\"", "AS in_progress",
                          "AS heap_progress", "AS is_autovacuum", "AS duration"}) {
      CHECK(has(sql, c));
    }
  }
}
