// Which rows of pg_class changed, as PostgreSQL's invalidations name them,
// so that a kept catalog read can re-read those rows instead of all of them
// (at 20,000 tables with TOAST and three indexes the whole read is 120,000
// rows and 150-250 ms; autovacuum changes a few rows at a time). No
// PostgreSQL header: the collectors and their unit tests use it.
#pragma once

#include <cstdint>
#include <vector>

namespace pgx {

struct CatalogChanges {
  // Anything may have changed: a pg_index or pg_namespace row, a cache
  // reset, more rows than were counted, or a backend that does not track
  // changes (only the worker does). Whatever was kept must be read again.
  bool all = false;
  // Otherwise the oids of the pg_class rows that changed (sorted, unique):
  // each created, updated (in place too: VACUUM and ANALYZE) or deleted.
  std::vector<uint32_t> relations;
};

// The hash PostgreSQL's system caches give a one-oid key (catcache.c:
// murmurhash32 of the oid), and its inverse: the invalidation of a pg_class
// row carries only the hash, and this function is a bijection, so the oid
// can be had back. Checked against the server's own hash before it is used
// (pgx::take_catalog_changes), so that a server hashing otherwise costs only
// the whole read.
constexpr uint32_t oid_cache_hash(uint32_t oid) {
  uint32_t h = oid;
  h ^= h >> 16;
  h *= 0x85ebca6bU;
  h ^= h >> 13;
  h *= 0xc2b2ae35U;
  h ^= h >> 16;
  return h;
}

constexpr uint32_t oid_of_cache_hash(uint32_t hash) {
  uint32_t h = hash;
  h ^= h >> 16;
  h *= 0x7ed1b41dU;  // the inverse of 0xc2b2ae35 modulo 2^32
  h ^= (h >> 13) ^ (h >> 26);
  h *= 0xa5cb9243U;  // of 0x85ebca6b
  h ^= h >> 16;
  return h;
}

}  // namespace pgx
