// Guarded: a custom metric's query run as the role that owns its definition.
// No PostgreSQL header here: the custom collector includes this.
#pragma once

#include <cstdint>
#include <string>

#include "pg/result.h"

namespace pgx {

// Runs `sql` (one plain SELECT, see owner_context.h) as role `owner`,
// contained: security-restricted, read-only, search_path pinned, every setting
// it changes undone, advisory locks it took released, its plan not kept.
// More than max_rows rows is an error. A superuser owner is refused unless
// allow_superuser. Must run inside a subtransaction that the caller rolls back
// when this throws (PgError).
ResultSet query_as_owner(const std::string& sql, uint32_t owner, uint64_t max_rows, bool allow_superuser);

// Whether the current user has the privileges of `role` (a superuser has
// every role's). Throws PgError.
bool current_user_has_privileges_of(uint32_t role);

// Releases every session-level advisory lock of this backend. Never throws.
void release_session_locks() noexcept;

}  // namespace pgx
