// PostgreSQL version differences of the wait-set and wait-event API, in one
// place. Include after postgres.h, inside extern "C".
#pragma once

#include "storage/latch.h"
#include "utils/memutils.h"
// Wait-event sets move out of latch.h in 18; wait-event classes out of
// pgstat.h in 14.
#if PG_VERSION_NUM >= 180000
#include "storage/waiteventset.h"
#endif
#if PG_VERSION_NUM >= 140000
#include "utils/wait_event.h"
#else
#include "pgstat.h"
#endif

// A wait-event set that lives until FreeWaitEventSet, as on every version:
// from 17 it takes a ResourceOwner (NULL: untracked, in TopMemoryContext),
// before that the memory context to allocate it in.
static inline WaitEventSet* pgx_create_wait_event_set(int nevents) {
#if PG_VERSION_NUM >= 170000
  return CreateWaitEventSet(NULL, nevents);
#else
  return CreateWaitEventSet(TopMemoryContext, nevents);
#endif
}
