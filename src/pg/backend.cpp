#include "pg/backend.h"

#include <cstdio>

#include "pg/guard.h"

extern "C" {
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"

#include "pg/compat/guc.h"
#include "pg/compat/syscache.h"
#include "pg/compat/wait_set.h"
}

namespace pgx {

namespace {

uint64_t catalog_changes = 0;
uint64_t config_changes = 0;

// Called by PostgreSQL's invalidation processing: must not fail.
void on_catalog_invalidation(Datum, pgx_syscache_id, uint32) { catalog_changes++; }
void on_role_invalidation(Datum, pgx_syscache_id, uint32) { config_changes++; }

}  // namespace

uint64_t catalog_generation() noexcept { return catalog_changes; }

uint64_t config_generation() noexcept {
  // A library loaded by a query (a custom metric's function) adds settings
  // without a reload.
  return (config_changes << 32) ^ static_cast<uint64_t>(pgx_libraries_loaded());
}

void worker_startup(const char* database, const char* role, int lock_timeout_ms) {
  guard([&] {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(database, (role && role[0]) ? role : NULL, 0);
    // Our queries name catalog objects unqualified: never resolve them in a
    // schema a user can write to.
    SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
    SetConfigOption("application_name", "pg_exporter", PGC_USERSET, PGC_S_SESSION);
    // The exporter only reads: a custom metric's query (or a function it
    // calls) must not be able to write through the worker's session. Session
    // level, like lock_timeout: pg_settings' reset_val keeps the server's
    // value (and follows reloads), and the settings collector exports that.
    SetConfigOption("default_transaction_read_only", "on", PGC_SUSET, PGC_S_SESSION);
    // Once per process: callback slots are few, and running out is FATAL.
    CacheRegisterSyscacheCallback(RELOID, on_catalog_invalidation, (Datum)0);
    CacheRegisterSyscacheCallback(INDEXRELID, on_catalog_invalidation, (Datum)0);
    CacheRegisterSyscacheCallback(NAMESPACEOID, on_catalog_invalidation, (Datum)0);
    // A role granted pg_read_all_settings (or a superuser made) sees more
    // of pg_settings.
    CacheRegisterSyscacheCallback(AUTHOID, on_role_invalidation, (Datum)0);
    CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, on_role_invalidation, (Datum)0);
    pgstat_report_appname("pg_exporter");
    pgstat_report_activity(STATE_IDLE, NULL);
  });
  set_lock_timeout(lock_timeout_ms);
}

void set_lock_timeout(int ms) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%d", ms);
  guard([&] { SetConfigOption("lock_timeout", buf, PGC_SUSET, PGC_S_SESSION); });
}

bool reload_config_if_requested() {
  if (!ConfigReloadPending) return false;
  ConfigReloadPending = false;
  config_changes++;
  guard([&] { ProcessConfigFile(PGC_SIGHUP); });
  return true;
}

void reset_latch_and_check_interrupts() {
  guard([&] {
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  });
}

bool acquire_external_fd() noexcept { return AcquireExternalFD(); }

void release_external_fd() noexcept { ReleaseExternalFD(); }

void restart_worker(const std::string& why) {
  char msg[512];
  snprintf(msg, sizeof(msg), "%s", why.c_str());
  ereport(LOG, (errmsg("pg_exporter: %s; restarting the worker", msg)));
  proc_exit(1);
}

int my_pid() noexcept { return MyProcPid; }

void backoff(long ms) noexcept {
  GuardError ignored;
  guarded_call(
      [](void* p) {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, *static_cast<long*>(p),
                        PG_WAIT_EXTENSION);
      },
      &ms, &ignored);
}

}  // namespace pgx
