// pgx::OidMap and pgx::StatsRequest's lookups (the statistics pass itself
// needs a server: t/014, t/013).
#include <cstdint>

#include "pg/oid_map.h"
#include "pg/relation_stats.h"
#include "unit.h"

TEST(oid_map_grows_and_keeps_the_first_value) {
  pgx::OidMap m;  // room for none: grows from 16 slots
  // Oids a power of two apart, which share their low bits, and consecutive ones.
  for (uint32_t k = 1; k <= 50000; k++) {
    CHECK(m.insert(k << 12, k));
    CHECK(m.insert(k + 0x40000000u, k + 1000000));
  }
  CHECK_EQ(m.size(), 100000u);
  bool all = true;
  for (uint32_t k = 1; k <= 50000; k++) {
    all = all && m.find(k << 12) == k && m.find(k + 0x40000000u) == k + 1000000;
  }
  CHECK(all);
  CHECK(!m.insert(5 << 12, 7));  // already there: stays 5
  CHECK_EQ(m.find(5 << 12), 5u);
  CHECK_EQ(m.find(3), pgx::OidMap::kNone);
  CHECK_EQ(m.find(0x7fffffffu), pgx::OidMap::kNone);
  CHECK(!m.insert(0, 1));  // InvalidOid is never a key
  CHECK_EQ(m.find(0), pgx::OidMap::kNone);
  CHECK_EQ(m.size(), 100000u);
}

TEST(stats_request_finds_slots_through_the_keys) {
  pgx::OidMap rows(4);
  rows.insert(16400, 0);
  rows.insert(16401, 1);
  rows.insert(16402, 2);
  rows.insert(16403, 3);
  pgx::StatsRequest r(rows, 4, 1, 2);
  r.want_full(2, 0);
  r.want_counters(0, 1);
  r.want_counters(2, 0);                   // key 2 already has a slot: the first wins
  r.want_counters(pgx::OidMap::kNone, 0);  // no row: ignored
  CHECK_EQ(r.find(16402), 0u);
  CHECK_EQ(r.find(16400), 2u);                  // counters come after the one full slot
  CHECK_EQ(r.find(16401), pgx::OidMap::kNone);  // a row nobody asked for
  CHECK_EQ(r.find(99), pgx::OidMap::kNone);     // not a row
  CHECK_EQ(r.full.size(), 1u);
  CHECK_EQ(r.counters.size(), 2u);
}
