// Library entry: settings, shared memory and the background worker.
#include "guc.h"
#include "worker/shared_state.h"

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

namespace {

void register_worker(const char* function, const char* name) {
  BackgroundWorker worker;
  memset(&worker, 0, sizeof(worker));
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  // Consistent state, not recovery finished: a hot standby exports too.
  worker.bgw_start_time = BgWorkerStart_ConsistentState;
  worker.bgw_restart_time = 5;
  strlcpy(worker.bgw_library_name, "pg_exporter", BGW_MAXLEN);
  strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
  strlcpy(worker.bgw_name, name, BGW_MAXLEN);
  strlcpy(worker.bgw_type, name, BGW_MAXLEN);
  RegisterBackgroundWorker(&worker);
}

}  // namespace

// Plain C-style code: no C++ object lives in this frame, so an ERROR raised by
// the Define* calls can unwind through it safely.
void _PG_init(void) {
  guc::define_all();
  if (!process_shared_preload_libraries_in_progress) {
    ereport(LOG, (errmsg("pg_exporter: loaded without shared_preload_libraries; the metrics endpoint is not "
                         "running"),
                  errhint("Add pg_exporter to shared_preload_libraries and restart PostgreSQL to start the "
                          "exporter's background worker. The SQL functions work either way.")));
    return;
  }
  shared::install_hooks();
  // HTTP and the built-in collectors; and the custom metrics (user-defined
  // queries), apart, so that none of them can hold up or stop the endpoint.
  register_worker("pg_exporter_worker_main", "pg_exporter");
  register_worker("pg_exporter_custom_main", "pg_exporter custom metrics");
}
