// pgexporter.query_columns(query text, owner regrole DEFAULT NULL) RETURNS
// text[]: the result columns a custom metric's query would produce, found by
// planning it as `owner` (default: the caller), never running it. The
// validation trigger of pgexporter.custom_metrics uses it. Planning can run a
// query's immutable functions (constant folding), so it happens in the same
// contained owner context as the worker's run, and only for a role whose
// privileges the caller already has. Plain C inside on purpose: no C++ object
// lives in this frame, so a syntax error in the user's query propagates as
// the ordinary PostgreSQL error the user should see.
#include "pg/owner_context.h"

extern "C" {
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/plancache.h"

PG_FUNCTION_INFO_V1(pg_exporter_query_columns);
}

extern "C" Datum pg_exporter_query_columns(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  // Extension 1.0 declared only the query.
  Oid owner = (PG_NARGS() > 1 && !PG_ARGISNULL(1)) ? PG_GETARG_OID(1) : GetUserId();
  if (!has_privs_of_role(GetUserId(), owner))
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
             errmsg("permission denied to plan a query as role \"%s\"", GetUserNameFromId(owner, false)),
             errdetail("Only a role with the privileges of the owner may do that.")));
  MemoryContext caller = CurrentMemoryContext;
  char* sql = text_to_cstring(PG_GETARG_TEXT_PP(0));

  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_exporter: SPI_connect failed");
  pgx::OwnerContext save;
  pgx::enter_owner_context(owner, &save);
  SPIPlanPtr plan = pgx::prepare_single_select(sql);
  auto* source = static_cast<CachedPlanSource*>(linitial(SPI_plan_get_plan_sources(plan)));
  TupleDesc desc = source->resultDesc;
  int n = desc ? desc->natts : 0;

  MemoryContext spi = MemoryContextSwitchTo(caller);
  Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * Max(n, 1)));
  for (int i = 0; i < n; i++) names[i] = CStringGetTextDatum(NameStr(TupleDescAttr(desc, i)->attname));
  ArrayType* result = construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT);
  MemoryContextSwitchTo(spi);
  pgx::leave_owner_context(&save);
  SPI_finish();
  PG_RETURN_ARRAYTYPE_P(result);
}
