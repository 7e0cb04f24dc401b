#include "pg/spi_copy.h"

#include <algorithm>

#include "pg/guard.h"

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace pgx::spi {

namespace {
void delete_context(void* p) { MemoryContextDelete(static_cast<MemoryContext>(p)); }
}  // namespace

ScratchContext::ScratchContext() {
  guard([&] {
    cxt_ = AllocSetContextCreate(CurrentMemoryContext, "pg_exporter query", ALLOCSET_DEFAULT_SIZES);
  });
}

ScratchContext::~ScratchContext() {
  if (cxt_ != nullptr) {
    GuardError ignored;
    guarded_call(delete_context, cxt_, &ignored);
  }
}

void copy_tuptable(void* cxt_ptr, RawResult* r) {
  MemoryContext cxt = static_cast<MemoryContext>(cxt_ptr);
  MemoryContext old = MemoryContextSwitchTo(cxt);
  TupleDesc desc = SPI_tuptable->tupdesc;
  r->ncols = desc->natts;
  r->nrows = SPI_processed;
  r->names = static_cast<char**>(palloc(sizeof(char*) * Max(r->ncols, 1)));
  for (int c = 0; c < r->ncols; c++) r->names[c] = SPI_fname(desc, c + 1);
  r->values =
      static_cast<char**>(MemoryContextAllocHuge(cxt, sizeof(char*) * Max(r->nrows * r->ncols, (uint64)1)));
  // The text SPI_getvalue() would give, with the output function looked up
  // once per column and each row deformed once (SPI_getvalue does a catalog
  // cache lookup, an fmgr_info and an attribute walk for every cell).
  FmgrInfo* out_fn = static_cast<FmgrInfo*>(palloc(sizeof(FmgrInfo) * Max(r->ncols, 1)));
  for (int c = 0; c < r->ncols; c++) {
    Oid fn;
    bool varlena;
    getTypeOutputInfo(TupleDescAttr(desc, c)->atttypid, &fn, &varlena);
    fmgr_info(fn, &out_fn[c]);
  }
  Datum* datums = static_cast<Datum*>(palloc(sizeof(Datum) * Max(r->ncols, 1)));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * Max(r->ncols, 1)));
  uint64 bytes = 0;
  for (uint64 i = 0; i < r->nrows; i++) {
    heap_deform_tuple(SPI_tuptable->vals[i], desc, datums, nulls);
    for (int c = 0; c < r->ncols; c++) {
      char* v = nulls[c] ? nullptr : OutputFunctionCall(&out_fn[c], datums[c]);
      r->values[i * r->ncols + c] = v;
      if (v != nullptr) bytes += strlen(v);
    }
    if (bytes > kMaxResultBytes)
      ereport(ERROR,
              (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
               errmsg("pg_exporter: query result exceeds %d MB of text", (int)(kMaxResultBytes >> 20))));
    if ((i & 1023) == 0) CHECK_FOR_INTERRUPTS();
  }
  r->bytes = bytes;
  MemoryContextSwitchTo(old);
}

ResultSet to_result_set(const RawResult& raw) {
  ResultSet rs;
  rs.reset(static_cast<size_t>(raw.ncols));
  rs.reserve(static_cast<size_t>(raw.nrows), static_cast<size_t>(raw.bytes));
  for (int c = 0; c < raw.ncols; c++) rs.set_column_name(c, raw.names[c]);
  for (uint64_t i = 0; i < raw.nrows; i++) {
    rs.add_row();
    for (int c = 0; c < raw.ncols; c++) rs.set_cell(c, raw.values[i * raw.ncols + c]);
  }
  return rs;
}

void start_result_set(const RawResult& raw, ResultSet& rs, size_t rows, size_t bytes) {
  rs.reset(static_cast<size_t>(raw.ncols));
  rs.reserve(std::max(rows, static_cast<size_t>(raw.nrows)), std::max(bytes, static_cast<size_t>(raw.bytes)));
  for (int c = 0; c < raw.ncols; c++) rs.set_column_name(c, raw.names[c]);
}

void append_rows(const RawResult& raw, ResultSet& rs) {
  for (uint64_t i = 0; i < raw.nrows; i++) {
    rs.add_row();
    for (int c = 0; c < raw.ncols; c++) rs.set_cell(c, raw.values[i * raw.ncols + c]);
  }
}

}  // namespace pgx::spi
