#include "collectors/kept_reads.h"

#include <algorithm>
#include <iterator>

#include "collectors/collector.h"

namespace collectors {

void KeptReads::refresh(const pgx::CatalogChanges& catalog_changes, uint64_t config_gen) {
  // More changed rows than this are read whole (an oid list is no cheaper).
  constexpr size_t kMaxStale = 4096;
  if (catalog_changes.all) {
    catalog->clear();
  } else if (catalog->value && !catalog_changes.relations.empty()) {
    std::vector<uint32_t> merged;
    std::set_union(catalog->stale.begin(), catalog->stale.end(), catalog_changes.relations.begin(),
                   catalog_changes.relations.end(), std::back_inserter(merged));
    catalog->stale = std::move(merged);
    if (catalog->stale.size() > kMaxStale) catalog->clear();
  }
  if (config_gen != config_generation) {
    until_reload.clear();
    rendered_until_reload.clear();
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

void Context::render_until_reload(const char* key, metrics::Sink& out,
                                  const std::function<void(metrics::Sink&)>& render) const {
  if (!kept) {
    render(out);
    return;
  }
  auto it = kept->rendered_until_reload.find(key);
  if (it == kept->rendered_until_reload.end()) {
    metrics::Sink fresh;  // in memory: a few hundred short families
    render(fresh);
    it = kept->rendered_until_reload.emplace(key, std::move(fresh)).first;
  }
  out.absorb(metrics::Sink(it->second));
}

}  // namespace collectors
