// PostgreSQL version differences of syscache invalidation callbacks, in one
// place. Include after postgres.h, inside extern "C".
#pragma once

#include "utils/inval.h"
#include "utils/syscache.h"

// The cache a callback is called for: a SysCacheIdentifier from 19, an int
// before.
#if PG_VERSION_NUM >= 190000
typedef SysCacheIdentifier pgx_syscache_id;
#else
typedef int pgx_syscache_id;
#endif
