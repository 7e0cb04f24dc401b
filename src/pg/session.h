// Guarded access to the backend: transactions, subtransactions, SPI queries,
// timeouts and logging. Every function here goes through pgx::guard, so a
// PostgreSQL ERROR surfaces as pgx::PgError and nothing else escapes.
// No PostgreSQL header here: the scrape and the collectors include this.
#pragma once

#include <functional>
#include <string>

#include "pg/error.h"
#include "pg/result.h"

namespace pgx {

// Runs one read-only statement through SPI and copies the result out.
// Must be called inside a transaction (and, for the scrape, a subtransaction
// that the caller rolls back if this throws).
ResultSet query(const char* sql);
// The same, the rows handed to `each` a batch at a time (each batch a
// ResultSet of its own, same columns) and never held whole: for a result
// that the caller keeps in another form (the 120,000-row catalog read).
void query_batches(const char* sql, const std::function<void(const ResultSet&)>& each);

// In the worker, no transaction begins (so no SQL runs) until it has taken
// on its role: it connects as the bootstrap superuser (pg/backend.h).
void require_role_for_sql() noexcept;
void role_assumed() noexcept;

// Top-level transaction for a scrape in the worker. The activity text shows in
// pg_stat_activity.query while it runs.
void begin_transaction(const char* activity);
void commit_transaction();
// Never throws: used on error paths. Reports the backend idle again.
void abort_transaction() noexcept;
bool in_transaction() noexcept;

// A subtransaction per collector so one failure does not spoil the others.
void begin_subtransaction();
void release_subtransaction();
// Never throws (a failure here leaves the outer transaction aborted, which the
// caller detects at commit).
void rollback_subtransaction() noexcept;

// SPI does not arm statement_timeout for us: arm it around each collector.
// Only the worker uses these; a user's backend keeps its own timeout.
void arm_statement_timeout(int ms);
void disarm_statement_timeout() noexcept;

// A cancel can be caught (a PL/pgSQL loop that handles query_canceled goes on
// after its statement timeout); a FATAL cannot. The hard deadline stops the
// worker the way SIGTERM does when it passes: for a user-defined query that
// ignores its timeout. Worker only.
void arm_hard_deadline(int ms);
void disarm_hard_deadline() noexcept;
// Whether the hard deadline passed in this process (read while it exits).
bool hard_deadline_passed() noexcept;

// Server log. Never throws; messages are truncated to a sane size.
enum class LogLevel { kDebug, kLog, kWarning };
void log(LogLevel level, const std::string& message) noexcept;

// Wall clock in seconds since the Unix epoch, and a monotonic clock.
double now_seconds() noexcept;
double monotonic_seconds() noexcept;

}  // namespace pgx
