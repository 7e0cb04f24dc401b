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

// PostgreSQL 16 renamed these PgStat_StatTabEntry fields: (16+ name, older
// name). Only the older branch is compiled here (the build is on 15).
#if PG_VERSION_NUM >= 160000
#define PGX_STAT_FIELD(since_16, before_16) since_16
#else
#define PGX_STAT_FIELD(since_16, before_16) before_16
#endif

// PostgreSQL 15+ (shared-memory statistics): the entries are fetched with
// stats_fetch_consistency = none, each a palloc'd copy in the current context
// that nothing else refers to, freed at once. With cache (the default) or
// snapshot the transaction keeps every entry it fetched: at 20,000 tables
// with their indexes and TOAST tables, 150,000 entries, tens of megabytes of
// the worker's private memory until the scrape ends, and a hash insertion
// each. Each number is still the live counter at the time of its lookup.
// The relations asked for are the database's own (user tables, their
// indexes and TOAST tables), never shared catalogs: one lookup each, where
// PostgreSQL 15's pgstat_fetch_stat_tabentry() tries a shared entry next
// when a relation has none (a TOAST table never read has none).
#if PG_VERSION_NUM >= 150000
#define PGX_FETCH_TABENTRY(oid) pgstat_fetch_stat_tabentry_ext(false, (oid))
#define PGX_FREE_FETCHED_ENTRY(e) pfree(e)
#define PGX_FETCH_UNCACHED_BEGIN                            \
  const int saved_consistency = pgstat_fetch_consistency;   \
  pgstat_fetch_consistency = PGSTAT_FETCH_CONSISTENCY_NONE; \
  PG_TRY();                                                 \
  {
#define PGX_FETCH_UNCACHED_END                      \
  }                                                 \
  PG_FINALLY();                                     \
  { pgstat_fetch_consistency = saved_consistency; } \
  PG_END_TRY();
#else
#define PGX_FETCH_TABENTRY(oid) pgstat_fetch_stat_tabentry(oid)
#define PGX_FREE_FETCHED_ENTRY(e) ((void)(e))
#define PGX_FETCH_UNCACHED_BEGIN {
#define PGX_FETCH_UNCACHED_END }
#endif

struct Batch {
  const uint32_t* oids;
  size_t n;
  RelationStats* out;
};

// Runs under pgx::guard: plain data only.
void fetch(Batch* b) {
  PGX_FETCH_UNCACHED_BEGIN
  for (size_t i = 0; i < b->n; i++) {
    PgStat_StatTabEntry* e = PGX_FETCH_TABENTRY(static_cast<Oid>(b->oids[i]));
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
    s.live_tuples = e->PGX_STAT_FIELD(live_tuples, n_live_tuples);
    s.dead_tuples = e->PGX_STAT_FIELD(dead_tuples, n_dead_tuples);
    s.mod_since_analyze = e->PGX_STAT_FIELD(mod_since_analyze, changes_since_analyze);
    s.autovacuum_count = e->PGX_STAT_FIELD(autovacuum_count, autovac_vacuum_count);
    s.autoanalyze_count = e->PGX_STAT_FIELD(autoanalyze_count, autovac_analyze_count);
    s.last_vacuum = unix_seconds(e->PGX_STAT_FIELD(last_vacuum_time, vacuum_timestamp));
    s.last_autovacuum = unix_seconds(e->PGX_STAT_FIELD(last_autovacuum_time, autovac_vacuum_timestamp));
    s.last_analyze = unix_seconds(e->PGX_STAT_FIELD(last_analyze_time, analyze_timestamp));
    s.last_autoanalyze = unix_seconds(e->PGX_STAT_FIELD(last_autoanalyze_time, autovac_analyze_timestamp));
    PGX_FREE_FETCHED_ENTRY(e);
  }
  PGX_FETCH_UNCACHED_END
}

}  // namespace

std::vector<RelationStats> relation_stats(const std::vector<uint32_t>& oids) {
  std::vector<RelationStats> out(oids.size());
  Batch b{oids.data(), oids.size(), out.data()};
  guard([&b] { fetch(&b); });
  return out;
}

}  // namespace pgx
