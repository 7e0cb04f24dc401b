// Internal to src/pg and src/sql: the C-level steps of running a user-defined
// query as its owner. Plain functions that may raise an ERROR: call them under
// pgx::guard, or from a frame that holds no C++ object (a SQL function).
#pragma once

extern "C" {
#include "postgres.h"

#include "executor/spi.h"
}

namespace pgx {

struct OwnerContext {
  Oid saved_user;
  int saved_sec_context;
  int guc_nest_level;
};

// Becomes `owner` the way VACUUM becomes a table's owner to run its index
// functions: a security-restricted operation (no SET ROLE, no temporary
// objects, no session state that outlives it), with search_path pinned to
// pg_catalog, pg_temp and the transaction read-only, at a GUC nest level of
// its own. Refuses a role that no longer exists.
void enter_owner_context(Oid owner, OwnerContext* save);
// Undoes every setting changed since enter_owner_context (set_config(...,
// false) included), restores the identity and releases the session-level
// advisory locks taken meanwhile (the worker holds none of its own). On an
// ERROR do not call it: the subtransaction's abort restores the settings and
// the identity, and the caller releases the locks.
void leave_owner_context(const OwnerContext* save);
// SPI_prepare of `sql`, refused unless it is exactly one plain SELECT (or
// VALUES or TABLE): no second statement, no data-modifying WITH, no SELECT
// INTO, no FOR UPDATE/SHARE.
SPIPlanPtr prepare_single_select(const char* sql);

}  // namespace pgx
