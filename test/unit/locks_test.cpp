// Version-dependent SQL of the locks collector, for every supported version.
#include <string>

#include "collectors/versioned_sql.h"
#include "unit.h"

namespace {
bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST(lock_waits_sql_by_version) {
  std::string v13 = collectors::lock_waits_sql(130000);
  CHECK(!has(v13, "waitstart"));
  CHECK(!has(v13, "longest_wait"));
  CHECK(has(v13, "pg_blocking_pids"));
  for (int v : {140000, 150000, 160000, 170000, 180000}) {
    std::string sql = collectors::lock_waits_sql(v);
    CHECK(has(sql, "now() - waitstart"));
    CHECK(has(sql, "AS longest_wait"));
    CHECK(has(sql, "AS blocked"));
  }
}

TEST(lock_types_sql_by_version) {
  for (int v : {130000, 140000, 150000}) {
    std::string sql = collectors::lock_types_sql(v);
    CHECK(has(sql, "('frozenid')"));
    CHECK(has(sql, "('advisory')"));
    CHECK(!has(sql, "applytransaction"));
  }
  for (int v : {160000, 170000, 180000}) CHECK(has(collectors::lock_types_sql(v), "('applytransaction')"));
}
