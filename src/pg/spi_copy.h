// Internal to src/pg: an SPI result copied out in two steps. Inside a guard,
// SPI_tuptable is copied into plain C arrays in a scratch memory context (the
// step that can raise an ERROR); after the guard, those arrays become a C++
// ResultSet. No PostgreSQL header here.
#pragma once

#include <cstdint>

#include "pg/result.h"

namespace pgx::spi {

// A query's text result, in palloc'd memory of a ScratchContext.
struct RawResult {
  int ncols = 0;
  uint64_t nrows = 0;
  char** names = nullptr;
  char** values = nullptr;  // nrows * ncols, nullptr for SQL NULL
  uint64_t bytes = 0;       // text in all values
};

// Most text a query may return: more is a cardinality accident (or a hostile
// custom query), which fails the query rather than the worker's memory.
constexpr uint64_t kMaxResultBytes = uint64_t{128} << 20;

// A memory context for one query's copy, deleted with this object.
class ScratchContext {
 public:
  ScratchContext();  // throws PgError
  ~ScratchContext();
  ScratchContext(const ScratchContext&) = delete;
  ScratchContext& operator=(const ScratchContext&) = delete;
  void* get() const { return cxt_; }  // a MemoryContext

 private:
  void* cxt_ = nullptr;
};

// Under a guard, after an SPI query that returned rows: copies SPI_tuptable
// into `cxt` (a MemoryContext). May raise an ERROR (limits, interrupts).
void copy_tuptable(void* cxt, RawResult* out);

// After the guard.
ResultSet to_result_set(const RawResult& raw);
// The same in batches: the columns of the first, room for about `rows` rows
// and `bytes` of text; then each batch's rows appended.
void start_result_set(const RawResult& raw, ResultSet& rs, size_t rows, size_t bytes);
void append_rows(const RawResult& raw, ResultSet& rs);

}  // namespace pgx::spi
