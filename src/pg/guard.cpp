#include "pg/guard.h"

extern "C" {
#include "postgres.h"

#include "mb/pg_wchar.h"
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
    // Cut at a character boundary: the text may end up in a text datum.
    const char* msg = edata->message ? edata->message : "unknown error";
    const int len =
        pg_mbcliplen(msg, static_cast<int>(strlen(msg)), static_cast<int>(sizeof(err->message)) - 1);
    memcpy(err->message, msg, static_cast<size_t>(len));
    err->message[len] = '\0';
    FreeErrorData(edata);
    ok = false;
  }
  PG_END_TRY();
  return ok;
}

}  // namespace pgx
