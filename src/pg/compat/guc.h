// PostgreSQL version differences of the GUC API, in one place. Include after
// postgres.h, inside extern "C".
#pragma once

#include <link.h>

#include "utils/guc.h"

// Warns about (and from 15 reserves) unknown settings under our prefix.
static inline void pgx_mark_guc_prefix_reserved(const char* prefix) {
#if PG_VERSION_NUM >= 150000
  MarkGUCPrefixReserved(prefix);
#else
  EmitWarningsOnPlaceholders(prefix);
#endif
}

static inline int pgx_count_loads(struct dl_phdr_info* info, size_t, void* out) {
  *static_cast<unsigned long long*>(out) = info->dlpi_adds;
  return 1;  // the counter is the same in every entry: stop at the first
}

// Settings appear without a reload only when a library is loaded (its
// _PG_init defines them). glibc counts every object ever loaded into the
// process: the same cheap check on every version (GetNumConfigOptions() is
// gone in 16, and get_guc_variables() allocates and sorts on each call).
static inline unsigned long long pgx_libraries_loaded(void) {
  unsigned long long adds = 0;
  dl_iterate_phdr(pgx_count_loads, &adds);
  return adds;
}
