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

// One pass over the statistics entries of the current database's relations,
// without a reference per entry: from 15 the shared hash table itself, as
// pgstat_build_snapshot walks it (a partition lock at a time, each entry
// copied under its own lock); before 15 the collector's snapshot. A lookup
// per relation would leave a backend-local reference to each of 120,000
// entries for the worker's lifetime (14 MB at 20,000 tables) and costs a hash
// probe and a refcount increment each. Usage:
//   PgxStatsScan s; pgx_stats_scan_init(&s);
//   while (pgx_stats_scan_next(&s, &relid)) if (wanted) pgx_stats_scan_copy(&s, &entry);
//   pgx_stats_scan_end(&s);   (and on error: the abort releases the locks)
// After a whole pass s.functions counts the database's function entries
// (pg_stat_user_functions has rows only if it is not 0).
#if PG_VERSION_NUM >= 150000
#include "utils/pgstat_internal.h"

#if PG_VERSION_NUM >= 180000
#define PGX_STATS_KEY_OBJ(key) ((Oid)(key).objid)
#else
#define PGX_STATS_KEY_OBJ(key) ((key).objoid)
#endif

typedef struct PgxStatsScan {
  dshash_seq_status seq;
  PgStatShared_HashEntry* entry;
  uint64 functions; /* the database's function entries passed so far */
} PgxStatsScan;

static inline void pgx_stats_scan_init(PgxStatsScan* s) {
  dshash_seq_init(&s->seq, pgStatLocal.shared_hash, false);
  s->entry = NULL;
  s->functions = 0;
}

static inline bool pgx_stats_scan_next(PgxStatsScan* s, Oid* relid) {
  PgStatShared_HashEntry* p;
  while ((p = (PgStatShared_HashEntry*)dshash_seq_next(&s->seq)) != NULL) {
    if (p->key.dboid != MyDatabaseId || p->dropped) continue;
    if (p->key.kind == PGSTAT_KIND_FUNCTION) s->functions++;
    if (p->key.kind != PGSTAT_KIND_RELATION) continue;
    s->entry = p;
    *relid = PGX_STATS_KEY_OBJ(p->key);
    return true;
  }
  s->entry = NULL;
  return false;
}

static inline void pgx_stats_scan_copy(PgxStatsScan* s, PgStat_StatTabEntry* out) {
  PgStatShared_Relation* shared = (PgStatShared_Relation*)dsa_get_address(pgStatLocal.dsa, s->entry->body);
  LWLockAcquire(&shared->header.lock, LW_SHARED);
  memcpy(out, &shared->stats, sizeof(*out));
  LWLockRelease(&shared->header.lock);
}

static inline void pgx_stats_scan_end(PgxStatsScan* s) { dshash_seq_term(&s->seq); }

#else
#include "utils/hsearch.h"

typedef struct PgxStatsScan {
  HASH_SEQ_STATUS seq;
  bool active;
  PgStat_StatTabEntry* entry;
  uint64 functions; /* the database's function entries */
} PgxStatsScan;

static inline void pgx_stats_scan_init(PgxStatsScan* s) {
  PgStat_StatDBEntry* db = pgstat_fetch_stat_dbentry(MyDatabaseId);
  s->active = db != NULL && db->tables != NULL;
  s->entry = NULL;
  s->functions = db != NULL && db->functions != NULL ? (uint64)hash_get_num_entries(db->functions) : 0;
  if (s->active) hash_seq_init(&s->seq, db->tables);
}

static inline bool pgx_stats_scan_next(PgxStatsScan* s, Oid* relid) {
  if (!s->active) return false;
  s->entry = (PgStat_StatTabEntry*)hash_seq_search(&s->seq);
  if (s->entry == NULL) {
    s->active = false;  // hash_seq_search ended the scan itself
    return false;
  }
  *relid = s->entry->tableid;
  return true;
}

static inline void pgx_stats_scan_copy(PgxStatsScan* s, PgStat_StatTabEntry* out) {
  memcpy(out, s->entry, sizeof(*out));
}

static inline void pgx_stats_scan_end(PgxStatsScan* s) {
  if (s->active) hash_seq_term(&s->seq);
  s->active = false;
}
#endif
