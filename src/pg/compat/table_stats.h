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
