#include "pg/backend.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "pg/guard.h"
#include "pg/session.h"

extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/memutils.h"

#include "pg/compat/guc.h"
#include "pg/compat/syscache.h"
#include "pg/compat/wait_set.h"
}

namespace pgx {

namespace {

uint64_t config_changes = 0;

// The pg_class invalidations taken in since take_catalog_changes() last ran,
// by hash; more than fit, a cache reset (hash 0) or any pg_index or
// pg_namespace change mean "everything". Fixed storage: the callbacks run
// inside PostgreSQL's invalidation processing and must not fail.
bool tracking_catalog = false;
bool catalog_all_changed = true;  // nothing read yet
constexpr size_t kMaxChangedRelations = 4096;
uint32 changed_relation_hashes[kMaxChangedRelations];
size_t changed_relations = 0;

void on_relation_invalidation(Datum, pgx_syscache_id, uint32 hash) {
  if (hash == 0 || changed_relations == kMaxChangedRelations) {
    catalog_all_changed = true;
  } else {
    changed_relation_hashes[changed_relations++] = hash;
  }
}
void on_catalog_invalidation(Datum, pgx_syscache_id, uint32) { catalog_all_changed = true; }
void on_role_invalidation(Datum, pgx_syscache_id, uint32) { config_changes++; }

}  // namespace

CatalogChanges take_catalog_changes() {
  CatalogChanges out;
  out.all = catalog_all_changed || !tracking_catalog;
  if (!out.all) {
    out.relations.reserve(changed_relations);
    for (size_t k = 0; k < changed_relations; k++)
      out.relations.push_back(oid_of_cache_hash(changed_relation_hashes[k]));
    // The oids are only as right as the hash function they were inverted
    // from: the server's own must give each one the hash it came from.
    bool same_hash = true;
    const uint32_t* oids = out.relations.data();
    const size_t n = out.relations.size();
    try {
      guard([&] {
        for (size_t k = 0; k < n; k++) {
          if (GetSysCacheHashValue1(RELOID, ObjectIdGetDatum(oids[k])) != changed_relation_hashes[k])
            same_hash = false;
        }
      });
    } catch (const PgError&) {
      same_hash = false;
    }
    if (!same_hash) out.all = true;
    std::sort(out.relations.begin(), out.relations.end());
    out.relations.erase(std::unique(out.relations.begin(), out.relations.end()), out.relations.end());
  }
  if (out.all) out.relations.clear();
  catalog_all_changed = false;
  changed_relations = 0;
  return out;
}

uint64_t config_generation() noexcept {
  // A library loaded by a query (a custom metric's function) adds settings
  // without a reload.
  return (config_changes << 32) ^ static_cast<uint64_t>(pgx_libraries_loaded());
}

void worker_startup(const char* database, int lock_timeout_ms) {
  guard([&] {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(database, NULL, 0);
    // Our queries name catalog objects unqualified: never resolve them in a
    // schema a user can write to (pg_temp last: else it is searched first).
    SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
    SetConfigOption("application_name", "pg_exporter", PGC_USERSET, PGC_S_SESSION);
    // The exporter only reads: a custom metric's query (or a function it
    // calls) must not be able to write through the worker's session. Session
    // level, like lock_timeout: pg_settings' reset_val keeps the server's
    // value (and follows reloads), and the settings collector exports that.
    SetConfigOption("default_transaction_read_only", "on", PGC_SUSET, PGC_S_SESSION);
    // Once per process: callback slots are few, and running out is FATAL.
    CacheRegisterSyscacheCallback(RELOID, on_relation_invalidation, (Datum)0);
    CacheRegisterSyscacheCallback(INDEXRELID, on_catalog_invalidation, (Datum)0);
    CacheRegisterSyscacheCallback(NAMESPACEOID, on_catalog_invalidation, (Datum)0);
    tracking_catalog = true;
    // A role granted pg_read_all_settings (or a superuser made) sees more
    // of pg_settings.
    CacheRegisterSyscacheCallback(AUTHOID, on_role_invalidation, (Datum)0);
    CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, on_role_invalidation, (Datum)0);
    pgstat_report_appname("pg_exporter");
    pgstat_report_activity(STATE_IDLE, NULL);
  });
  require_role_for_sql();
  set_lock_timeout(lock_timeout_ms);
}

std::string assume_role(const char* role) {
  char why[256] = "";
  bool super = false;
  guard([&] {
    StartTransactionCommand();
    Oid id = get_role_oid(role, true);
    if (!OidIsValid(id)) {
      snprintf(why, sizeof(why), "role \"%s\" (pg_exporter.role) does not exist", role);
    } else {
      super = superuser_arg(id);
      // The check hook looks the role up: inside the transaction. The value
      // stays for the session.
      SetConfigOption("session_authorization", role, PGC_SUSET, PGC_S_OVERRIDE);
    }
    CommitTransactionCommand();
  });
  if (why[0] == '\0') role_assumed();
  if (super)
    log(LogLevel::kWarning, std::string("pg_exporter.role \"") + role +
                                "\" is a superuser: the built-in collectors need only pg_monitor");
  return why;
}

std::string current_role_name() {
  char name[NAMEDATALEN] = "";
  guard([&] {
    // A catalog lookup: only inside a transaction.
    const bool own = !IsTransactionState();
    if (own) StartTransactionCommand();
    const char* n = GetUserNameFromId(GetUserId(), true);
    strlcpy(name, n != nullptr ? n : "", sizeof(name));
    if (own) CommitTransactionCommand();
  });
  return name;
}

namespace {

constexpr int kMaxChecked = 8;
struct ConfigValues {
  const char* names[kMaxChecked];
  int n;
  char values[kMaxChecked][1024];
  bool found[kMaxChecked];
};

// The last value of each name in the configuration files, the way
// ProcessConfigFile reads them.
void read_config_values(void* p) {
  auto* c = static_cast<ConfigValues*>(p);
  ConfigVariable* head = nullptr;
  ConfigVariable* tail = nullptr;
  (void)ParseConfigFile(ConfigFileName, true, NULL, 0, 0, DEBUG1, &head, &tail);
  if (DataDir) (void)ParseConfigFile(PG_AUTOCONF_FILENAME, false, NULL, 0, 0, DEBUG1, &head, &tail);
  for (ConfigVariable* item = head; item != nullptr; item = item->next) {
    if (item->name == nullptr || item->value == nullptr) continue;
    for (int k = 0; k < c->n; k++) {
      if (pg_strcasecmp(item->name, c->names[k]) != 0) continue;
      strlcpy(c->values[k], item->value, sizeof(c->values[k]));
      c->found[k] = true;
    }
  }
  FreeConfigVariables(head);
}

struct Validation {
  const char* name;
  const char* value;
  char why[512];
};

// The setting's own checks (range, check hook) without applying the value.
void validate_setting(void* p) {
  auto* v = static_cast<Validation*>(p);
  MemoryContext cxt = CurrentMemoryContext;
  PG_TRY();
  { (void)set_config_option(v->name, v->value, PGC_SIGHUP, PGC_S_FILE, GUC_ACTION_SET, false, ERROR, false); }
  PG_CATCH();
  {
    MemoryContextSwitchTo(cxt);
    ErrorData* e = CopyErrorData();
    FlushErrorState();
    snprintf(v->why, sizeof(v->why), "%s%s%s", e->message ? e->message : "invalid value",
             e->detail ? ": " : "", e->detail ? e->detail : "");
    FreeErrorData(e);
  }
  PG_END_TRY();
}

}  // namespace

std::vector<RefusedSetting> refused_settings(const std::vector<std::string>& names) {
  ConfigValues c{};
  c.n = static_cast<int>(std::min<size_t>(names.size(), kMaxChecked));
  for (int k = 0; k < c.n; k++) c.names[k] = names[k].c_str();
  guard([&] { read_config_values(&c); });
  std::vector<RefusedSetting> out;
  for (int k = 0; k < c.n; k++) {
    if (!c.found[k]) continue;
    Validation v{c.names[k], c.values[k], ""};
    guard([&] { validate_setting(&v); });
    if (v.why[0] != '\0') out.push_back({names[k], c.values[k], v.why});
  }
  return out;
}

namespace {
void (*exit_fn)() = nullptr;
void run_exit_fn(int, Datum) {
  if (exit_fn != nullptr) exit_fn();
}
}  // namespace

void at_worker_exit(void (*fn)()) {
  exit_fn = fn;
  guard([&] { before_shmem_exit(run_exit_fn, (Datum)0); });
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

int external_fd_budget() noexcept { return max_safe_fds / 3; }

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

namespace pgx {

void wait_for_latch(long ms) {
  guard([&] {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (ms >= 0 ? WL_TIMEOUT : 0), ms,
                    PG_WAIT_EXTENSION);
  });
}

}  // namespace pgx
