// Version-dependent SQL of the locks collector, for every supported version.
#include <string>

#include "collectors/versioned_sql.h"
#include "unit.h"

namespace {
bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST(lock_types_sql_by_version) {
  for (int v : {130000, 140000, 150000}) {
    std::string sql = collectors::lock_types_sql(v);
    CHECK(has(sql, "('frozenid')"));
    CHECK(has(sql, "('advisory')"));
    CHECK(!has(sql, "applytransaction"));
  }
  for (int v : {160000, 170000, 180000}) CHECK(has(collectors::lock_types_sql(v), "('applytransaction')"));
}
