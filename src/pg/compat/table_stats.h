// PostgreSQL version differences of the statistics structs read through the
// C API, in one place. Include after postgres.h, inside extern "C".
#pragma once

#include "pgstat.h"

// PgStat_StatTabEntry's fields renamed in 16: PGX_STAT_FIELD(16+ name, older name).
#if PG_VERSION_NUM >= 160000
#define PGX_STAT_FIELD(since_16, before_16) since_16
#else
#define PGX_STAT_FIELD(since_16, before_16) before_16
#endif

// Statistics entries fetched one by one without the transaction's cache
// (15+, shared-memory statistics): under stats_fetch_consistency = none each
// entry is a palloc'd copy that nothing else refers to, freed by the caller
// when *may_free says so. With cache (the default) or snapshot the
// transaction would keep every entry fetched: at 20,000 tables with their
// indexes and TOAST tables, 150,000 entries and tens of megabytes until the
// scrape ends. Only the database's own relations are asked for, so no
// shared-catalog retry (15's pgstat_fetch_stat_tabentry tries one next).
// Before 15 the collector's snapshot is all there is.
static inline int pgx_stats_uncached_begin(void) {
#if PG_VERSION_NUM >= 150000
  const int saved = pgstat_fetch_consistency;
  pgstat_fetch_consistency = PGSTAT_FETCH_CONSISTENCY_NONE;
  return saved;
#else
  return 0;
#endif
}

static inline void pgx_stats_uncached_end(int saved) {
#if PG_VERSION_NUM >= 150000
  pgstat_fetch_consistency = saved;
#else
  (void)saved;
#endif
}

static inline PgStat_StatTabEntry *pgx_fetch_tabentry(Oid relid, bool *may_free) {
#if PG_VERSION_NUM >= 190000
  return pgstat_fetch_stat_tabentry_ext(false, relid, may_free);
#elif PG_VERSION_NUM >= 150000
  *may_free = pgstat_fetch_consistency == PGSTAT_FETCH_CONSISTENCY_NONE;
  return pgstat_fetch_stat_tabentry_ext(false, relid);
#else
  *may_free = false;
  return pgstat_fetch_stat_tabentry(relid);
#endif
}
