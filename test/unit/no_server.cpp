// The unit tests have no PostgreSQL: a collector that tries to query fails
// the way a broken connection would, loudly.
#include <stdexcept>

#include "collectors/collector.h"

namespace collectors {

pgx::ResultSet Context::query(const char*) const { throw std::runtime_error("unit tests have no database"); }

void Context::query_batches(const char*, const std::function<void(const pgx::ResultSet&)>&) const {
  throw std::runtime_error("unit tests have no database");
}

void Context::scan_relation_stats(pgx::StatsRequest&) const {
  throw std::runtime_error("unit tests have no database");
}

pgx::ResultSet Context::query_as_owner(const std::string&, uint32_t, uint64_t) const {
  throw std::runtime_error("unit tests have no database");
}

bool Context::caller_has_privileges_of(uint32_t) const {
  throw std::runtime_error("unit tests have no database");
}

}  // namespace collectors
