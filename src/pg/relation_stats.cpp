#include "pg/relation_stats.h"

#include <cmath>

#include "pg/guard.h"

extern "C" {
#include "postgres.h"

#include "pgstat.h"
#include "utils/timestamp.h"
}

namespace pgx {

namespace {

// extract(epoch FROM t) as a double: the exact microsecond count divided once,
// so the value is the one the decimal text would parse to. 0 means never.
double unix_seconds(TimestampTz t) {
  if (t == 0) return NAN;
  return static_cast<double>(t + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY) / 1e6;
}

struct Batch {
  const uint32_t* oids;
  size_t n;
  RelationStats* out;
};

// Runs under pgx::guard: plain data only.
void fetch(Batch* b) {
  for (size_t i = 0; i < b->n; i++) {
    PgStat_StatTabEntry* e = pgstat_fetch_stat_tabentry(static_cast<Oid>(b->oids[i]));
    if (e == nullptr) continue;
    RelationStats& s = b->out[i];
    s.numscans = e->numscans;
    s.tuples_returned = e->tuples_returned;
    s.tuples_fetched = e->tuples_fetched;
    s.tuples_inserted = e->tuples_inserted;
    s.tuples_updated = e->tuples_updated;
    s.tuples_deleted = e->tuples_deleted;
    s.tuples_hot_updated = e->tuples_hot_updated;
    s.blocks_fetched = e->blocks_fetched;
    s.blocks_hit = e->blocks_hit;
    s.vacuum_count = e->vacuum_count;
    s.analyze_count = e->analyze_count;
#if PG_VERSION_NUM >= 160000
    // PostgreSQL 16 renamed these fields (not compiled in CI, which builds on 15).
    s.live_tuples = e->live_tuples;
    s.dead_tuples = e->dead_tuples;
    s.mod_since_analyze = e->mod_since_analyze;
    s.autovacuum_count = e->autovacuum_count;
    s.autoanalyze_count = e->autoanalyze_count;
    s.last_vacuum = unix_seconds(e->last_vacuum_time);
    s.last_autovacuum = unix_seconds(e->last_autovacuum_time);
    s.last_analyze = unix_seconds(e->last_analyze_time);
    s.last_autoanalyze = unix_seconds(e->last_autoanalyze_time);
#else
    s.live_tuples = e->n_live_tuples;
    s.dead_tuples = e->n_dead_tuples;
    s.mod_since_analyze = e->changes_since_analyze;
    s.autovacuum_count = e->autovac_vacuum_count;
    s.autoanalyze_count = e->autovac_analyze_count;
    s.last_vacuum = unix_seconds(e->vacuum_timestamp);
    s.last_autovacuum = unix_seconds(e->autovac_vacuum_timestamp);
    s.last_analyze = unix_seconds(e->analyze_timestamp);
    s.last_autoanalyze = unix_seconds(e->autovac_analyze_timestamp);
#endif
  }
}

}  // namespace

std::vector<RelationStats> relation_stats(const std::vector<uint32_t>& oids) {
  std::vector<RelationStats> out(oids.size());
  Batch b{oids.data(), oids.size(), out.data()};
  guard([&b] { fetch(&b); });
  return out;
}

}  // namespace pgx
