// PostgreSQL version differences of the set-returning-function API, and the
// headers SQL functions need (19 no longer brings TEXTOID, tuplestores and
// heap tuples in through funcapi.h). Include after postgres.h, inside
// extern "C".
#pragma once

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"

// Sets up a materialized result: rsinfo->setResult and ->setDesc are ready
// for tuplestore_putvalues. InitMaterializedSRF exists from 15; before, the
// same steps by hand.
static inline void pgx_init_materialized_srf(FunctionCallInfo fcinfo) {
#if PG_VERSION_NUM >= 150000
  InitMaterializedSRF(fcinfo, 0);
#else
  ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
  if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("set-valued function called in context that cannot accept a set")));
  if (!(rsinfo->allowedModes & SFRM_Materialize))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("materialize mode required, but it is not allowed in this context")));
  MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
  TupleDesc tupdesc;
  if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
    elog(ERROR, "return type must be a row type");
  rsinfo->returnMode = SFRM_Materialize;
  rsinfo->setResult =
      tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0, false, work_mem);
  rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
  MemoryContextSwitchTo(old);
#endif
}
