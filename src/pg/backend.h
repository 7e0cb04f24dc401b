// The worker's own backend: start-up, signals, configuration reload,
// interrupts, file-descriptor accounting. Guarded; no PostgreSQL header here.
#pragma once

#include <cstdint>
#include <string>

namespace pgx {

// Signal handlers, database connection, session settings. Called first in the
// worker; an ERROR here exits the worker (the postmaster restarts it later).
void worker_startup(const char* database, const char* role, int lock_timeout_ms);

// ProcessConfigFile(PGC_SIGHUP) if a SIGHUP arrived. Returns true if it did.
bool reload_config_if_requested();

// Counters that move when what the worker read may have changed, so that a
// scrape can keep a read for the next one while they stand still.
// catalog_generation: invalidations of pg_class, pg_index or pg_namespace
// rows (any relation, index or schema created, altered, dropped, rewritten,
// vacuumed or analyzed), and cache resets, as this backend takes them in
// (at transaction start). Only the worker tracks them (worker_startup):
// elsewhere it never moves, so nothing may be kept on it.
uint64_t catalog_generation() noexcept;
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

// Exits the worker with code 1 so the postmaster restarts it (used when the
// database or role changes). Does not return.
[[noreturn]] void restart_worker(const std::string& why);

int my_pid() noexcept;

// Sleeps a little, waking early on the latch: keeps a loop that keeps
// failing from spinning.
void backoff(long ms) noexcept;

}  // namespace pgx
