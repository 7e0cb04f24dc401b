// The one place where PostgreSQL's longjmp-based errors meet C++.
//
// pgx::guard(fn) runs fn under PG_TRY. If PostgreSQL raises an ERROR, the
// error is copied into a plain buffer, the error state is flushed and a
// pgx::PgError is thrown *after* the sigsetjmp frame is gone, so no C++
// destructor is ever skipped by a longjmp.
//
// The rule for fn: it calls PostgreSQL C functions and touches only
// trivially destructible data. No std::string, vector, or anything with a
// destructor may be created inside it (a longjmp would skip the destructor).
#pragma once

#include "pg/error.h"

namespace pgx {

struct GuardError {
  char sqlstate[6];
  char message[1024];
};

// Returns false and fills *err if fn raised an ERROR. Never throws.
bool guarded_call(void (*fn)(void*), void* arg, GuardError* err) noexcept;

template <typename Fn>
void guard(Fn&& fn) {
  GuardError err;
  auto thunk = [](void* p) { (*static_cast<Fn*>(p))(); };
  if (!guarded_call(thunk, static_cast<void*>(&fn), &err)) {
    throw PgError(err.message, err.sqlstate);
  }
}

}  // namespace pgx
