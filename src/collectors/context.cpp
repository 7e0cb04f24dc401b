// The one place collectors reach PostgreSQL. Kept apart from the collectors so
// that they (and their version-dependent SQL builders) link into the unit
// tests, which have no server.
#include "collectors/collector.h"
#include "pg/relation_stats.h"
#include "pg/session.h"

namespace collectors {

pgx::ResultSet Context::query(const char* sql) const { return pgx::query(sql); }

std::vector<pgx::RelationStats> Context::relation_stats(const std::vector<uint32_t>& oids) const {
  return pgx::relation_stats(oids);
}

}  // namespace collectors
