// The one place collectors reach PostgreSQL. Kept apart from the collectors so
// that they (and their version-dependent SQL builders) link into the unit
// tests, which have no server.
#include "collectors/collector.h"
#include "pg/owner_query.h"
#include "pg/relation_stats.h"
#include "pg/session.h"

namespace collectors {

pgx::ResultSet Context::query(const char* sql) const { return pgx::query(sql); }

void Context::query_batches(const char* sql, const std::function<void(const pgx::ResultSet&)>& each) const {
  pgx::query_batches(sql, each);
}

void Context::scan_relation_stats(pgx::StatsRequest& request) const {
  pgx::scan_relation_stats(request);
  if (*function_stats_entries == UINT64_MAX) *function_stats_entries = request.function_entries;
}

pgx::ResultSet Context::query_as_owner(const std::string& sql, uint32_t owner, uint64_t max_rows) const {
  return pgx::query_as_owner(sql, owner, max_rows, superuser_owners_allowed);
}

bool Context::caller_has_privileges_of(uint32_t role) const {
  return pgx::current_user_has_privileges_of(role);
}

}  // namespace collectors
