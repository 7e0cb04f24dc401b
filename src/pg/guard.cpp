#include "pg/guard.h"

extern "C" {
#include "postgres.h"

#include "utils/elog.h"
#include "utils/memutils.h"
}

namespace pgx {

bool guarded_call(void (*fn)(void*), void* arg, GuardError* err) noexcept {
  MemoryContext oldcxt = CurrentMemoryContext;
  volatile bool ok = true;

  PG_TRY();
  { fn(arg); }
  PG_CATCH();
  {
    // CopyErrorData must not run in ErrorContext.
    MemoryContextSwitchTo(oldcxt);
    ErrorData* edata = CopyErrorData();
    FlushErrorState();
    strlcpy(err->sqlstate, unpack_sql_state(edata->sqlerrcode), sizeof(err->sqlstate));
    strlcpy(err->message, edata->message ? edata->message : "unknown error", sizeof(err->message));
    FreeErrorData(edata);
    ok = false;
  }
  PG_END_TRY();
  return ok;
}

}  // namespace pgx
