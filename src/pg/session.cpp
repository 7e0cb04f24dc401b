#include "pg/session.h"

#include <signal.h>
#include <time.h>

#include <string>
#include <unordered_map>

#include "pg/guard.h"
#include "pg/spi_copy.h"

extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timeout.h"
}

namespace pgx {

namespace {

struct QueryArgs {
  const char* sql;
  void* cxt;
  spi::RawResult* out;
  SPIPlanPtr cached;  // a kept plan for this text, or nullptr
  SPIPlanPtr kept;    // out: a plan newly kept for the cache
  Portal portal = nullptr;
};

// A query's rows come through a cursor, kFetchRows at a time, each batch
// copied into the C++ result before the next is fetched: the 120,000-row
// catalog read of 20,000 tables held its tuples, their text copies and the
// result at once (three times its size, 40 MB over the worker's usual
// memory); now the result and one batch.
constexpr long kFetchRows = 8192;

void open_cursor(void* p) {
  auto* a = static_cast<QueryArgs*>(p);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_exporter: SPI_connect failed");
  SPIPlanPtr plan = a->cached;
  if (plan == nullptr) {
    plan = SPI_prepare(a->sql, 0, nullptr);
    if (plan == nullptr) elog(ERROR, "pg_exporter: %s", SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) == 0) a->kept = plan;
  }
  if (!SPI_is_cursor_plan(plan)) elog(ERROR, "pg_exporter: query does not return rows");
  // The portal outlives this SPI connection, not the (sub)transaction.
  a->portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
  SPI_finish();
}

struct FetchArgs {
  Portal portal;
  void* cxt;
  spi::RawResult* out;
};

void fetch_rows(void* p) {
  auto* a = static_cast<FetchArgs*>(p);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_exporter: SPI_connect failed");
  SPI_cursor_fetch(a->portal, true, kFetchRows);
  spi::copy_tuptable(a->cxt, a->out);
  SPI_finish();
}

void close_cursor(void* p) { SPI_cursor_close(static_cast<Portal>(p)); }

// Rows and text of each statement's last result, to size the next one's
// storage at once instead of growing it by copies.
std::unordered_map<std::string, std::pair<size_t, size_t>>& last_sizes() {
  static auto* sizes = new std::unordered_map<std::string, std::pair<size_t, size_t>>();  // never destroyed
  return *sizes;
}

// Plans of the collectors' queries, kept across scrapes: planning the catalog
// views costs about as much as running them. The plan cache replans by itself
// when a catalog object (or search_path) changes. Only the collectors' own
// fixed statements come here (custom metrics run through query_as_owner,
// never kept); the bound is a safety net.
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

}  // namespace

namespace {

// query() and query_batches(): into `rs`, or a batch at a time to `each`.
void run_query(const char* sql, ResultSet& rs, const std::function<void(const ResultSet&)>* each) {
  make_room_in_plan_cache();
  auto it = plan_cache().find(sql);
  QueryArgs args{sql, nullptr, nullptr, it == plan_cache().end() ? nullptr : it->second, nullptr};
  try {
    guard([&] { open_cursor(&args); });
  } catch (...) {
    // A plan kept before the query failed (a timeout, a permission) is still valid.
    if (args.kept != nullptr) plan_cache().emplace(sql, args.kept);
    throw;
  }
  if (args.kept != nullptr) plan_cache().emplace(sql, args.kept);
  uint64_t bytes = 0;
  size_t rows = 0;
  try {
    for (bool first = true;; first = false) {
      spi::ScratchContext scratch;
      spi::RawResult raw;
      FetchArgs fetch{args.portal, scratch.get(), &raw};
      guard([&] { fetch_rows(&fetch); });
      if (each != nullptr) {
        ResultSet batch;
        spi::start_result_set(raw, batch, 0, 0);
        spi::append_rows(raw, batch);
        rows += batch.rows();
        (*each)(batch);
      } else {
        if (first) {
          auto last = last_sizes().find(sql);
          spi::start_result_set(
              raw, rs, last == last_sizes().end() ? 0 : last->second.first + last->second.first / 8,
              last == last_sizes().end() ? 0 : last->second.second + last->second.second / 8);
        }
        spi::append_rows(raw, rs);
        rows = rs.rows();
      }
      bytes += raw.bytes;
      if (bytes > spi::kMaxResultBytes)
        throw PgError(
            "pg_exporter: query result exceeds " + std::to_string(spi::kMaxResultBytes >> 20) + " MB of text",
            "54000");
      if (raw.nrows < static_cast<uint64_t>(kFetchRows)) break;
    }
  } catch (...) {
    GuardError ignored;
    guarded_call(close_cursor, args.portal, &ignored);
    throw;
  }
  guard([&] { close_cursor(args.portal); });
  if (each == nullptr && (last_sizes().size() < kMaxCachedPlans || last_sizes().count(sql)))
    last_sizes()[sql] = {rows, bytes};
}

}  // namespace

ResultSet query(const char* sql) {
  ResultSet rs;
  run_query(sql, rs, nullptr);
  return rs;
}

void query_batches(const char* sql, const std::function<void(const ResultSet&)>& each) {
  ResultSet unused;
  run_query(sql, unused, &each);
}

namespace {
// Subtransactions switch memory context and resource owner; put them back so
// the caller keeps allocating where it was (the pattern of PL/pgSQL's
// exception blocks).
MemoryContext sub_saved_cxt[64];
ResourceOwner sub_saved_owner[64];
int sub_depth = 0;
}  // namespace

namespace {
bool role_required = false;
bool role_taken = false;
}  // namespace

void require_role_for_sql() noexcept { role_required = true; }
void role_assumed() noexcept { role_taken = true; }

void begin_transaction(const char* activity) {
  if (role_required && !role_taken)
    throw PgError("pg_exporter: the worker has not taken on pg_exporter.role: no SQL runs", "42501");
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

namespace {
volatile sig_atomic_t deadline_passed = 0;
TimeoutId hard_deadline_id = MAX_TIMEOUTS;

// In a signal handler: what die() does, so the next CHECK_FOR_INTERRUPTS
// raises FATAL, which no exception handler of the query can catch.
void on_hard_deadline() {
  deadline_passed = 1;
  ProcDiePending = true;
  InterruptPending = true;
  SetLatch(MyLatch);
}
}  // namespace

void arm_hard_deadline(int ms) {
  if (ms <= 0) return;
  guard([&] {
    if (hard_deadline_id == MAX_TIMEOUTS) hard_deadline_id = RegisterTimeout(USER_TIMEOUT, on_hard_deadline);
    enable_timeout_after(hard_deadline_id, ms);
  });
}

void disarm_hard_deadline() noexcept {
  if (hard_deadline_id == MAX_TIMEOUTS) return;
  GuardError ignored;
  guarded_call([](void*) { disable_timeout(hard_deadline_id, false); }, nullptr, &ignored);
}

bool hard_deadline_passed() noexcept { return deadline_passed != 0; }

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
