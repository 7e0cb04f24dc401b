// The buffercache collector's SQL for the pg_buffercache version that each
// supported server release installs by default.
#include <string>

#include "collectors/versioned_sql.h"
#include "unit.h"

namespace {

bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

int default_extension_version(int server_version) {
  switch (server_version / 10000) {
    case 13:
    case 14:
    case 15:
      return 103;
    case 16:
      return 104;
    case 17:
      return 105;
    default:
      return 106;
  }
}

}  // namespace

TEST(buffercache_sql_every_server_version) {
  for (int server : {130000, 140000, 150000, 160000, 170000, 180000}) {
    const std::string sql = collectors::buffercache_sql(default_extension_version(server), "\"x y\"");
    for (const char* col :
         {"buffers_used", "buffers_unused", "buffers_dirty", "buffers_pinned", "usagecount_avg"}) {
      CHECK(has(sql, col));
    }
    if (server >= 160000) {
      CHECK(has(sql, "FROM \"x y\".pg_buffercache_summary()"));
    } else {
      CHECK(has(sql, "FROM \"x y\".pg_buffercache b"));
      CHECK(has(sql, "count(*) FILTER (WHERE b.pinning_backends > 0) AS buffers_pinned"));
      CHECK(!has(sql, "summary"));
    }
  }
  // 1.0 has no pinning_backends; unparsable versions and no schema give nothing.
  CHECK(has(collectors::buffercache_sql(100, "s"), "NULL::bigint AS buffers_pinned"));
  CHECK(collectors::buffercache_sql(-1, "s").empty());
  CHECK(collectors::buffercache_sql(104, "").empty());
}
