// The worker's own backend: start-up, signals, configuration reload,
// interrupts, file-descriptor accounting. Guarded; no PostgreSQL header here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pg/catalog_changes.h"

namespace pgx {

// Signal handlers, database connection (as the bootstrap superuser, which a
// background worker can always be, whatever its role may log in), session
// settings. Called first in the worker; an ERROR here exits the worker (the
// postmaster restarts it later).
void worker_startup(const char* database, int lock_timeout_ms);

// Takes on `role` for everything the worker runs from now on, as SET SESSION
// AUTHORIZATION does (pg_stat_activity still shows the user it connected
// as). Returns "" or why the role cannot be had (it does not exist); then
// the worker must run no SQL. A superuser role is logged, not refused.
std::string assume_role(const char* role);
// The role the worker's queries run as now.
std::string current_role_name();

// The given settings whose last value in the configuration files
// (postgresql.conf with its includes, then postgresql.auto.conf) their own
// checks refuse, each with the reason. PostgreSQL keeps the value in force
// then (at start-up: the built-in default), which for a setting that guards
// access is a substitute the operator did not choose.
struct RefusedSetting {
  std::string name;
  std::string value;
  std::string why;
};
std::vector<RefusedSetting> refused_settings(const std::vector<std::string>& names);

// Runs fn when the worker exits by proc_exit (FATAL, SIGTERM, the hard
// deadline), while its shared memory is still attached. fn must not throw.
void at_worker_exit(void (*fn)());

// ProcessConfigFile(PGC_SIGHUP) if a SIGHUP arrived. Returns true if it did.
bool reload_config_if_requested();

// Counters that move when what the worker read may have changed, so that a
// scrape can keep a read for the next one while they stand still.
// take_catalog_changes: the pg_class rows named by invalidations since its
// last call (any relation created, altered, dropped, rewritten, vacuumed or
// analyzed), or "all" for a pg_index or pg_namespace change or a cache reset,
// as this backend took them in (at transaction start; call it in one). Only
// the worker tracks them (worker_startup): elsewhere it always says "all".
CatalogChanges take_catalog_changes();
// Moves with each configuration reload, each setting a loaded library adds
// and each change to roles or role membership (which settings the worker may
// see): pg_settings' rows, reset_val and pending_restart change only then.
uint64_t config_generation() noexcept;
// Clears the latch and processes interrupts. A cancel (pg_cancel_backend)
// surfaces as PgError; SIGTERM exits the process (FATAL), by design.
void reset_latch_and_check_interrupts();
// Sets lock_timeout for the worker's session.
void set_lock_timeout(int ms);

// fd.c's budget does not know about our sockets.
bool acquire_external_fd() noexcept;
void release_external_fd() noexcept;
// How many descriptors acquire_external_fd() grants in all (fd.c: a third
// of what the server may open): the ceiling of pg_exporter.max_clients.
int external_fd_budget() noexcept;

// Exits the worker with code 1 so the postmaster restarts it (used when the
// database or role changes). Does not return.
[[noreturn]] void restart_worker(const std::string& why);

int my_pid() noexcept;

// Sleeps a little, waking early on the latch: keeps a loop that keeps
// failing from spinning.
void backoff(long ms) noexcept;
// Waits for the latch (ms < 0: for ever). Exits if the postmaster dies.
void wait_for_latch(long ms);

}  // namespace pgx
