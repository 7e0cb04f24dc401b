// What one scrape of the worker keeps for the next: reads whose source
// changes far less often than Prometheus scrapes. The settings are tagged
// with the generation (pgx::config_generation) seen when their scrape began,
// and the first scrape that sees another drops them; the catalog takes in
// the changes named since (pgx::take_catalog_changes) as each scrape begins.
// Both are safe against a change that lands during the read: it is counted
// for the next scrape, which reads again. The SQL function
// (pgexporter.metrics()) and the unit tests keep nothing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "collectors/relation_catalog.h"
#include "datadir/directory_sizes.h"
#include "metrics/sink.h"
#include "pg/catalog_changes.h"
#include "pg/result.h"

namespace collectors {

struct KeptReads {
  // pg_class and pg_index for the per-table collectors: at 20,000 tables
  // reading them is a sixth of a scrape, and they change only with DDL,
  // VACUUM and ANALYZE (reltuples).
  std::shared_ptr<RelationCatalogCache> catalog = std::make_shared<RelationCatalogCache>();
  // Data directory listings (relation and database sizes), kept for
  // pg_exporter.size_ttl whatever the generations: sizes change slowly, and
  // listing a database folder of 20,000 tables is 100,000+ stat() calls.
  std::shared_ptr<datadir::DirectorySizes> files = std::make_shared<datadir::DirectorySizes>();
  // pg_database_size() of the other databases, by oid: bytes and when read.
  struct DatabaseSize {
    double bytes = 0;
    datadir::DirectorySizes::Clock::time_point taken;
  };
  std::map<uint32_t, DatabaseSize> database_sizes;
  datadir::DirectorySizes::Clock::duration size_ttl{0};
  // Drops the sizes older than size_ttl.
  void expire_sizes(datadir::DirectorySizes::Clock::time_point now = datadir::DirectorySizes::Clock::now());
  // Reads that change only with a configuration reload (pg_settings).
  std::map<std::string, std::shared_ptr<const pgx::ResultSet>> until_reload;
  // Families rendered from such reads (pg_settings: 300 families), by
  // collector: kept rendered, as they are the same until the next reload.
  std::map<std::string, metrics::Sink> rendered_until_reload;
  uint64_t config_generation = 0;

  // Drops what may be stale, or marks the catalog rows that are
  // (pgx::take_catalog_changes). Called as a scrape begins, in its
  // transaction (which is when the backend takes in invalidations).
  void refresh(const pgx::CatalogChanges& catalog_changes, uint64_t config_gen);
};

}  // namespace collectors
