// Version-dependent SQL of the locks collector, for every supported version.
#include <algorithm>
#include <string>

#include "collectors/versioned_sql.h"
#include "unit.h"

namespace {
bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST(lock_types_by_version) {
  for (int v : {130000, 140000, 150000}) {
    const auto types = collectors::lock_types(v);
    CHECK_EQ(types.size(), 11u);
    CHECK(std::find(types.begin(), types.end(), "frozenid") != types.end());
    CHECK(std::find(types.begin(), types.end(), "applytransaction") == types.end());
  }
  for (int v : {160000, 170000, 180000, 190000}) {
    const auto types = collectors::lock_types(v);
    CHECK(std::find(types.begin(), types.end(), "applytransaction") != types.end());
  }
}

TEST(locks_sql_reads_pg_locks_once_and_waitstart_from_14) {
  const std::string v13 = collectors::locks_sql(130000);
  CHECK(!has(v13, "waitstart"));
  for (int v : {140000, 150000, 160000, 170000, 180000, 190000})
    CHECK(has(collectors::locks_sql(v), "now() - l.waitstart"));
  for (int v : {130000, 140000, 180000}) {
    const std::string sql = collectors::locks_sql(v);
    const size_t first = sql.find("pg_locks");
    CHECK(first != std::string::npos);
    CHECK_EQ(sql.find("pg_locks", first + 1), std::string::npos);
  }
}

// pg_stat_lock from 19 (run against 19 in CI: sql/locks_more.sql).
TEST(lock_stats_sql_from_19) {
  for (int v : {130000, 140000, 150000, 160000, 170000, 180000}) CHECK_EQ(collectors::lock_stats_sql(v), "");
  const std::string sql = collectors::lock_stats_sql(190000);
  CHECK(has(sql, "FROM pg_stat_lock"));
  CHECK(has(sql, "wait_time / 1000 AS wait_seconds"));
  CHECK(has(sql, "waits"));
  CHECK(has(sql, "fastpath_exceeded"));
}
