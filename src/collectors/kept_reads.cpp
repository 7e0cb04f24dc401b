#include "collectors/kept_reads.h"

#include "collectors/collector.h"

namespace collectors {

void KeptReads::refresh(uint64_t catalog_gen, uint64_t config_gen) {
  if (catalog_gen != catalog_generation) {
    catalog->clear();
    catalog_generation = catalog_gen;
  }
  if (config_gen != config_generation) {
    until_reload.clear();
    config_generation = config_gen;
  }
}

void KeptReads::expire_sizes(datadir::DirectorySizes::Clock::time_point now) {
  files->expire(size_ttl, now);
  for (auto it = database_sizes.begin(); it != database_sizes.end();) {
    if (size_ttl.count() <= 0 || now - it->second.taken >= size_ttl) {
      it = database_sizes.erase(it);
    } else {
      ++it;
    }
  }
}

std::shared_ptr<const pgx::ResultSet> Context::query_until_reload(const char* sql) const {
  if (!kept) return std::make_shared<const pgx::ResultSet>(query(sql));
  auto it = kept->until_reload.find(sql);
  if (it == kept->until_reload.end()) {
    it = kept->until_reload.emplace(sql, std::make_shared<const pgx::ResultSet>(query(sql))).first;
  }
  return it->second;
}

}  // namespace collectors
