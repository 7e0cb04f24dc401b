// The background workers' entry points (bgw_function_name): the main worker
// (HTTP and the built-in collectors) and the custom metrics worker.
#include <exception>

#include "guc.h"
#include "pg/backend.h"
#include "pg/session.h"
#include "worker/custom_worker.h"
#include "worker/exporter.h"

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "storage/ipc.h"

PGDLLEXPORT void pg_exporter_worker_main(Datum main_arg);
PGDLLEXPORT void pg_exporter_custom_main(Datum main_arg);
}

namespace {

// All C++ lives below this frame; nothing escapes it.
void run_worker(char* error, size_t len) noexcept {
  try {
    pgx::worker_startup(guc::database, guc::lock_timeout_ms);
    // Never destroyed: the process ends by proc_exit.
    auto* exporter = new worker::Exporter();
    exporter->run();
  } catch (const std::exception& e) {
    strlcpy(error, e.what(), len);
  } catch (...) {
    strlcpy(error, "unknown exception", len);
  }
}

void run_custom_worker(char* error, size_t len) noexcept {
  try {
    pgx::worker_startup(guc::database, guc::lock_timeout_ms);
    // Never destroyed: the process ends by proc_exit.
    auto* worker = new worker::CustomWorker();
    worker->run();
  } catch (const std::exception& e) {
    strlcpy(error, e.what(), len);
  } catch (...) {
    strlcpy(error, "unknown exception", len);
  }
}

}  // namespace

void pg_exporter_custom_main(Datum) {
  char error[1024] = "";
  run_custom_worker(error, sizeof(error));
  ereport(LOG, (errmsg("pg_exporter: custom metrics worker stopping: %s", error)));
  proc_exit(1);
}

void pg_exporter_worker_main(Datum) {
  char error[1024] = "";
  run_worker(error, sizeof(error));
  // Exit code 1: the postmaster restarts us after bgw_restart_time.
  ereport(LOG, (errmsg("pg_exporter: worker stopping: %s", error)));
  proc_exit(1);
}
