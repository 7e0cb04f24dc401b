// pgexporter.query_columns(query text) RETURNS text[]: the result columns a
// custom metric's query would produce, found by planning it, never running
// it (no side effects, no time). The validation trigger of
// pgexporter.custom_metrics uses it. Plain C inside on purpose: no C++ object
// lives in this frame, so a syntax error in the user's query propagates as
// the ordinary PostgreSQL error the user should see.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/plancache.h"

PG_FUNCTION_INFO_V1(pg_exporter_query_columns);
}

extern "C" Datum pg_exporter_query_columns(PG_FUNCTION_ARGS) {
  MemoryContext caller = CurrentMemoryContext;
  StringInfoData sql;
  initStringInfo(&sql);
  // The same wrapping the worker uses: one SELECT only, no data-modifying WITH.
  appendStringInfo(&sql, "SELECT * FROM (%s\n) AS pgexporter_custom", text_to_cstring(PG_GETARG_TEXT_PP(0)));

  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_exporter: SPI_connect failed");
  SPIPlanPtr plan = SPI_prepare(sql.data, 0, nullptr);
  if (plan == nullptr)
    elog(ERROR, "pg_exporter: could not plan the query: %s", SPI_result_code_string(SPI_result));
  List* sources = SPI_plan_get_plan_sources(plan);
  if (list_length(sources) != 1) ereport(ERROR, (errmsg("the query must be a single SELECT statement")));
  CachedPlanSource* source = static_cast<CachedPlanSource*>(linitial(sources));
  TupleDesc desc = source->resultDesc;
  int n = desc ? desc->natts : 0;

  MemoryContext spi = MemoryContextSwitchTo(caller);
  Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * Max(n, 1)));
  for (int i = 0; i < n; i++) names[i] = CStringGetTextDatum(NameStr(TupleDescAttr(desc, i)->attname));
  ArrayType* result = construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT);
  MemoryContextSwitchTo(spi);
  SPI_finish();
  PG_RETURN_ARRAYTYPE_P(result);
}
