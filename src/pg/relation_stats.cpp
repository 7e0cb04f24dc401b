#include "pg/relation_stats.h"

#include <cmath>

#include "pg/guard.h"

extern "C" {
#include "postgres.h"

#include "utils/timestamp.h"

#include "pg/compat/table_stats.h"
}

namespace pgx {

namespace {

// extract(epoch FROM t) as a double: the exact microsecond count divided once,
// so the value is the one the decimal text would parse to. 0 means never.
double unix_seconds(TimestampTz t) {
  if (t == 0) return NAN;
  return static_cast<double>(t + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY) / 1e6;
}

void copy_stats(const PgStat_StatTabEntry* e, RelationStats& s) {
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
}

// Runs under pgx::guard: plain data only.
void scan(StatsRequest* r) {
  PgxStatsScan s;
  pgx_stats_scan_init(&s);
  PG_TRY();
  {
    Oid relid;
    PgStat_StatTabEntry e;
    const uint32_t full = static_cast<uint32_t>(r->full_slots());
    while (pgx_stats_scan_next(&s, &relid)) {
      const uint32_t slot = r->find(relid);
      if (slot == OidMap::kNone) continue;
      pgx_stats_scan_copy(&s, &e);
      if (slot < full) {
        copy_stats(&e, r->full[slot]);
      } else {
        AccessCounters& c = r->counters[slot - full];
        c.numscans = e.numscans;
        c.tuples_returned = e.tuples_returned;
        c.tuples_fetched = e.tuples_fetched;
        c.blocks_fetched = e.blocks_fetched;
        c.blocks_hit = e.blocks_hit;
      }
    }
  }
  PG_CATCH();
  {
    pgx_stats_scan_end(&s);
    PG_RE_THROW();
  }
  PG_END_TRY();
  r->function_entries = s.functions;
  pgx_stats_scan_end(&s);
}

}  // namespace

void scan_relation_stats(StatsRequest& request) {
  StatsRequest* r = &request;
  guard([r] { scan(r); });
}

}  // namespace pgx
