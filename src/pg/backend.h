// The worker's own backend: start-up, signals, configuration reload,
// interrupts, file-descriptor accounting. Guarded; no PostgreSQL header here.
#pragma once

#include <string>

namespace pgx {

// Signal handlers, database connection, session settings. Called first in the
// worker; an ERROR here exits the worker (the postmaster restarts it later).
void worker_startup(const char* database, const char* role, int lock_timeout_ms);

// ProcessConfigFile(PGC_SIGHUP) if a SIGHUP arrived. Returns true if it did.
bool reload_config_if_requested();
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
