#include "pg/session.h"

#include <time.h>

#include <string>
#include <unordered_map>

#include "pg/guard.h"

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "pgstat.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
}

namespace pgx {

namespace {

// SPI's result, copied into palloc'd C arrays inside the guard; the C++ copy
// happens after the guard returns.
struct RawResult {
  int ncols;
  uint64 nrows;
  char** names;
  char** values;  // nrows * ncols, NULL for SQL NULL
  uint64 bytes;   // text in all values
};

constexpr uint64 kMaxResultBytes = uint64{128} << 20;

struct QueryArgs {
  const char* sql;
  MemoryContext cxt;
  RawResult* out;
  SPIPlanPtr cached;  // a kept plan for this text, or nullptr
  SPIPlanPtr kept;    // out: a plan newly kept for the cache
  bool may_keep;
};

void run_query(void* p) {
  auto* a = static_cast<QueryArgs*>(p);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_exporter: SPI_connect failed");
  SPIPlanPtr plan = a->cached;
  if (plan == nullptr) {
    plan = SPI_prepare(a->sql, 0, nullptr);
    if (plan == nullptr) elog(ERROR, "pg_exporter: %s", SPI_result_code_string(SPI_result));
    if (a->may_keep && SPI_keepplan(plan) == 0) a->kept = plan;
  }
  int rc = SPI_execute_plan(plan, nullptr, nullptr, true, 0);
  if (rc != SPI_OK_SELECT) elog(ERROR, "pg_exporter: query did not return rows (SPI code %d)", rc);

  MemoryContext old = MemoryContextSwitchTo(a->cxt);
  TupleDesc desc = SPI_tuptable->tupdesc;
  RawResult* r = a->out;
  r->ncols = desc->natts;
  r->nrows = SPI_processed;
  r->names = static_cast<char**>(palloc(sizeof(char*) * Max(r->ncols, 1)));
  for (int c = 0; c < r->ncols; c++) r->names[c] = SPI_fname(desc, c + 1);
  r->values = static_cast<char**>(
      MemoryContextAllocHuge(a->cxt, sizeof(char*) * Max(r->nrows * r->ncols, (uint64)1)));
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
    // A result this large is a cardinality accident (or a hostile custom
    // query): fail the query rather than the worker's memory.
    if (bytes > kMaxResultBytes)
      ereport(ERROR,
              (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
               errmsg("pg_exporter: query result exceeds %d MB of text", (int)(kMaxResultBytes >> 20))));
    if ((i & 1023) == 0) CHECK_FOR_INTERRUPTS();
  }
  r->bytes = bytes;
  MemoryContextSwitchTo(old);
  SPI_finish();
}

// Plans of the collectors' queries, kept across scrapes: planning the catalog
// views costs about as much as running them. The plan cache replans by itself
// when a catalog object (or search_path) changes. Bounded: user-defined
// queries change, so when full it is emptied and refilled.
constexpr size_t kMaxCachedPlans = 128;
std::unordered_map<std::string, SPIPlanPtr>& plan_cache() {
  static auto* cache = new std::unordered_map<std::string, SPIPlanPtr>();  // never destroyed
  return *cache;
}

void free_plans(void*) {
  for (auto& [sql, plan] : plan_cache()) SPI_freeplan(plan);
}

void make_room_in_plan_cache() {
  if (plan_cache().size() < kMaxCachedPlans) return;
  GuardError ignored;
  guarded_call(free_plans, nullptr, &ignored);
  plan_cache().clear();
}

void delete_context(void* p) { MemoryContextDelete(static_cast<MemoryContext>(p)); }

// Owns the palloc'd copy for the duration of one C++ conversion.
struct ContextHolder {
  MemoryContext cxt = nullptr;
  ~ContextHolder() {
    if (cxt != nullptr) {
      GuardError ignored;
      guarded_call(delete_context, cxt, &ignored);
    }
  }
};

}  // namespace

ResultSet query(const char* sql) {
  ContextHolder holder;
  RawResult raw{};
  guard([&] {
    holder.cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_exporter query", ALLOCSET_DEFAULT_SIZES);
  });
  make_room_in_plan_cache();
  auto it = plan_cache().find(sql);
  QueryArgs args{sql, holder.cxt, &raw, it == plan_cache().end() ? nullptr : it->second, nullptr, true};
  try {
    guard([&] { run_query(&args); });
  } catch (...) {
    // A plan kept before the query failed (a timeout, a permission) is still valid.
    if (args.kept != nullptr) plan_cache().emplace(sql, args.kept);
    throw;
  }
  if (args.kept != nullptr) plan_cache().emplace(sql, args.kept);

  ResultSet rs;
  rs.reset(static_cast<size_t>(raw.ncols));
  rs.reserve(static_cast<size_t>(raw.nrows), static_cast<size_t>(raw.bytes));
  for (int c = 0; c < raw.ncols; c++) rs.set_column_name(c, raw.names[c]);
  for (uint64 i = 0; i < raw.nrows; i++) {
    rs.add_row();
    for (int c = 0; c < raw.ncols; c++) rs.set_cell(c, raw.values[i * raw.ncols + c]);
  }
  return rs;
}

namespace {
// Subtransactions switch memory context and resource owner; put them back so
// the caller keeps allocating where it was (the pattern of PL/pgSQL's
// exception blocks).
MemoryContext sub_saved_cxt[64];
ResourceOwner sub_saved_owner[64];
int sub_depth = 0;
}  // namespace

void begin_transaction(const char* activity) {
  guard([&] {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, activity);
  });
}

void commit_transaction() {
  guard([&] {
    if (ActiveSnapshotSet()) PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(true);
    pgstat_report_activity(STATE_IDLE, NULL);
  });
}

void abort_transaction() noexcept {
  sub_depth = 0;  // aborting the top level aborts every subtransaction
  GuardError ignored;
  guarded_call(
      [](void*) {
        AbortCurrentTransaction();
        pgstat_report_activity(STATE_IDLE, NULL);
      },
      nullptr, &ignored);
}

bool in_transaction() noexcept { return IsTransactionState(); }

void begin_subtransaction() {
  if (sub_depth >= 64) throw PgError("pg_exporter: subtransactions nested too deeply", "XX000");
  guard([&] {
    sub_saved_cxt[sub_depth] = CurrentMemoryContext;
    sub_saved_owner[sub_depth] = CurrentResourceOwner;
    BeginInternalSubTransaction(NULL);
    MemoryContextSwitchTo(sub_saved_cxt[sub_depth]);
  });
  sub_depth++;
}

void release_subtransaction() {
  sub_depth--;
  guard([&] {
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(sub_saved_cxt[sub_depth]);
    CurrentResourceOwner = sub_saved_owner[sub_depth];
  });
}

void rollback_subtransaction() noexcept {
  if (sub_depth <= 0) return;
  sub_depth--;
  GuardError ignored;
  guarded_call(
      [](void*) {
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(sub_saved_cxt[sub_depth]);
        CurrentResourceOwner = sub_saved_owner[sub_depth];
      },
      nullptr, &ignored);
}

void arm_statement_timeout(int ms) {
  if (ms <= 0) return;
  guard([&] { enable_timeout_after(STATEMENT_TIMEOUT, ms); });
}

void disarm_statement_timeout() noexcept {
  GuardError ignored;
  guarded_call([](void*) { disable_timeout(STATEMENT_TIMEOUT, false); }, nullptr, &ignored);
}

void log(LogLevel level, const std::string& message) noexcept {
  struct Args {
    int elevel;
    const char* msg;
  } args{level == LogLevel::kWarning ? WARNING : level == LogLevel::kLog ? LOG : DEBUG1, message.c_str()};
  GuardError ignored;
  guarded_call(
      [](void* p) {
        auto* a = static_cast<Args*>(p);
        ereport(a->elevel, (errmsg("pg_exporter: %.2000s", a->msg)));
      },
      &args, &ignored);
}

double now_seconds() noexcept {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double monotonic_seconds() noexcept {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace pgx
