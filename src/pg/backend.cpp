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
#include "utils/guc.h"
#include "utils/wait_event.h"
}

namespace pgx {

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
