// PostgreSQL version differences of shared-memory requests, in one place.
// Include after postgres.h, inside extern "C".
#pragma once

#include "miscadmin.h"
#include "storage/ipc.h"

// From 15 a library requests shared memory in shmem_request_hook; before,
// directly in _PG_init while shared_preload_libraries is processed (which is
// when install is called).
#if PG_VERSION_NUM >= 150000
typedef shmem_request_hook_type pgx_shmem_request_hook_type;
static inline void pgx_install_shmem_request_hook(pgx_shmem_request_hook_type* prev, void (*request)(void)) {
  *prev = shmem_request_hook;
  shmem_request_hook = request;
}
#else
typedef void (*pgx_shmem_request_hook_type)(void);
static inline void pgx_install_shmem_request_hook(pgx_shmem_request_hook_type* prev, void (*request)(void)) {
  *prev = NULL;
  request();
}
#endif
