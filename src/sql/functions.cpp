// SQL-callable functions of CREATE EXTENSION pg_exporter. Each is a
// PostgreSQL entry point: the C++ work happens in a noexcept helper that
// catches everything, and ereport(ERROR) is raised only after those C++
// frames are gone.
#include <cstring>
#include <string>
#include <vector>

#include "collectors/selection.h"
#include "guc.h"
#include "metrics/render.h"
#include "pg/guard.h"
#include "scrape/scrape.h"
#include "worker/shared_state.h"

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "mb/pg_wchar.h"
#include "storage/procarray.h"

#include "pg/compat/srf.h"

PG_FUNCTION_INFO_V1(pg_exporter_metrics);
PG_FUNCTION_INFO_V1(pg_exporter_collector_status);
PG_FUNCTION_INFO_V1(pg_exporter_worker_status);
}

namespace {

struct ErrorText {
  char buf[1024];
};

// Renders the exposition in this backend. names == nullptr: the enabled set.
bool render_metrics(const char* const* names, int nnames, text** result, ErrorText* err) noexcept {
  try {
    scrape::Options opts;
    if (names == nullptr) {
      std::string why;
      if (!collectors::parse_selection(guc::collectors ? guc::collectors : "default", &opts.collectors,
                                       &why)) {
        throw std::runtime_error(why);
      }
    } else {
      for (int i = 0; i < nnames; i++) {
        const collectors::Collector* c = collectors::find(names[i]);
        if (c == nullptr) throw std::runtime_error(std::string("unknown collector \"") + names[i] + "\"");
        opts.collectors.push_back(c);
      }
    }
    opts.database = "";
    opts.superuser_owners_allowed = guc::superuser_metrics;
    scrape::Result r = scrape::run(opts);
    scrape::add_scrape_metrics(r, r.sink);
    std::string body = metrics::render(r.sink);
    pgx::guard([&] { *result = cstring_to_text_with_len(body.data(), static_cast<int>(body.size())); });
    return true;
  } catch (const std::exception& e) {
    strlcpy(err->buf, e.what(), sizeof(err->buf));
  } catch (...) {
    strlcpy(err->buf, "unknown error", sizeof(err->buf));
  }
  return false;
}

struct CollectorRow {
  char name[64];
  char description[256];
  bool enabled;
  bool default_enabled;
};

bool list_collectors(std::vector<CollectorRow>* rows, ErrorText* err) noexcept {
  try {
    std::vector<const collectors::Collector*> enabled;
    std::string why;
    collectors::parse_selection(guc::collectors ? guc::collectors : "default", &enabled, &why);
    for (const collectors::Collector* c : collectors::all()) {
      CollectorRow row{};
      strlcpy(row.name, c->name, sizeof(row.name));
      strlcpy(row.description, c->description, sizeof(row.description));
      row.default_enabled = c->enabled_by_default;
      for (const auto* e : enabled) row.enabled |= (e == c);
      rows->push_back(row);
    }
    return true;
  } catch (const std::exception& e) {
    strlcpy(err->buf, e.what(), sizeof(err->buf));
  }
  return false;
}

// Text the worker stored (valid in its database's encoding) as a text datum
// valid in this database's: converted, or with every non-ASCII byte made '?'
// where it cannot be.
Datum stored_text(const char* s, int encoding) {
  const int len = static_cast<int>(strlen(s));
  if (encoding == GetDatabaseEncoding() && pg_verifymbstr(s, len, true)) return CStringGetTextDatum(s);
  char* converted = nullptr;
  MemoryContext cxt = CurrentMemoryContext;
  PG_TRY();
  {
    converted = reinterpret_cast<char*>(pg_do_encoding_conversion(
        reinterpret_cast<unsigned char*>(const_cast<char*>(s)), len, encoding, GetDatabaseEncoding()));
    if (!pg_verifymbstr(converted, static_cast<int>(strlen(converted)), true)) converted = nullptr;
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(cxt);
    FlushErrorState();
    converted = nullptr;
  }
  PG_END_TRY();
  if (converted == nullptr) {
    converted = pstrdup(s);
    for (char* p = converted; *p; p++) {
      if (static_cast<unsigned char>(*p) >= 0x80) *p = '?';
    }
  }
  return CStringGetTextDatum(converted);
}

TimestampTz to_timestamptz(double unix_seconds) {
  return static_cast<TimestampTz>(
      (unix_seconds - ((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)) * USECS_PER_SEC);
}

}  // namespace

// pgexporter.metrics(collectors text[] DEFAULT NULL) RETURNS text
extern "C" Datum pg_exporter_metrics(PG_FUNCTION_ARGS) {
  const char** names = nullptr;
  int nnames = 0;
  if (!PG_ARGISNULL(0)) {
    ArrayType* arr = PG_GETARG_ARRAYTYPE_P(0);
    Datum* elems;
    bool* nulls;
    deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nnames);
    names = static_cast<const char**>(palloc(sizeof(char*) * (nnames + 1)));
    for (int i = 0; i < nnames; i++) {
      if (nulls[i])
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("collector name is NULL")));
      names[i] = TextDatumGetCString(elems[i]);
    }
  }
  text* result = nullptr;
  ErrorText* err = static_cast<ErrorText*>(palloc0(sizeof(ErrorText)));
  // The function's SET clause pins the path too (since 1.1); this holds for a
  // database still at 1.0. Undone below, or by the caller's abort.
  const int nest = NewGUCNestLevel();
  (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                          true, 0, false);
  if (!render_metrics(names, nnames, &result, err)) {
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("pg_exporter: %s", err->buf)));
  }
  AtEOXact_GUC(true, nest);
  PG_RETURN_TEXT_P(result);
}

// pgexporter.collector_status(): one row per collector, with the worker's
// last outcome for it when the worker is running.
extern "C" Datum pg_exporter_collector_status(PG_FUNCTION_ARGS) {
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  pgx_init_materialized_srf(fcinfo);

  auto* rows = static_cast<CollectorRow*>(palloc0(sizeof(CollectorRow) * shared::kMaxCollectors));
  int nrows = 0;
  {
    ErrorText err{};
    std::vector<CollectorRow> tmp;
    bool ok = list_collectors(&tmp, &err);
    if (ok) {
      for (const auto& r : tmp) {
        if (nrows < shared::kMaxCollectors) rows[nrows++] = r;
      }
    }
  }
  auto* st = static_cast<shared::Status*>(palloc0(sizeof(shared::Status)));
  bool have = shared::read(st) && st->worker_pid != 0;
  const int enc = st->encoding;

  for (int i = 0; i < nrows; i++) {
    Datum values[8];
    bool nulls[8] = {false, false, false, false, true, true, true, true};
    values[0] = CStringGetTextDatum(rows[i].name);
    values[1] = BoolGetDatum(rows[i].enabled);
    values[2] = BoolGetDatum(rows[i].default_enabled);
    values[3] = CStringGetTextDatum(rows[i].description);
    for (int k = 0; have && k < st->ncollectors && k < shared::kMaxCollectors; k++) {
      const shared::CollectorStatus& cs = st->collectors[k];
      if (strcmp(cs.name, rows[i].name) != 0 || cs.last_scrape_time == 0) continue;
      values[4] = BoolGetDatum(cs.success);
      nulls[4] = false;
      values[5] = Float8GetDatum(cs.duration_seconds);
      nulls[5] = !cs.ran;
      if (cs.last_error[0] != '\0') {
        values[6] = stored_text(cs.last_error, enc);
        nulls[6] = false;
      }
      values[7] = TimestampTzGetDatum(to_timestamptz(cs.last_scrape_time));
      nulls[7] = false;
    }
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  // Parts of planned collectors (custom metrics, "custom:<name>") exist only
  // in the worker's last scrape.
  for (int k = 0; have && k < st->ncollectors && k < shared::kMaxCollectors; k++) {
    const shared::CollectorStatus& cs = st->collectors[k];
    if (strchr(cs.name, ':') == nullptr || cs.last_scrape_time == 0) continue;
    Datum values[8];
    bool nulls[8] = {false, false, false, false, false, !cs.ran, cs.last_error[0] == '\0', false};
    values[0] = stored_text(cs.name, enc);
    values[1] = BoolGetDatum(true);
    values[2] = BoolGetDatum(false);
    values[3] = CStringGetTextDatum("part of a collector (a custom metric definition)");
    values[4] = BoolGetDatum(cs.success);
    values[5] = Float8GetDatum(cs.duration_seconds);
    values[6] = nulls[6] ? (Datum)0 : stored_text(cs.last_error, enc);
    values[7] = TimestampTzGetDatum(to_timestamptz(cs.last_scrape_time));
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

// pgexporter.worker_status(): one row about the background worker. A pid
// that is no longer a live backend (the worker died without its exit hook,
// or between restarts) reads as no worker.
extern "C" Datum pg_exporter_worker_status(PG_FUNCTION_ARGS) {
  TupleDesc tupdesc;
  if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
    ereport(ERROR, (errmsg("pgexporter.worker_status must return a record")));
  tupdesc = BlessTupleDesc(tupdesc);

  auto* st = static_cast<shared::Status*>(palloc0(sizeof(shared::Status)));
  bool preloaded = shared::read(st);
  bool alive = st->worker_pid != 0 && BackendPidGetProc(st->worker_pid) != nullptr;
  // 1.0 declared the first nine columns.
  Datum values[11];
  bool nulls[11] = {};
  values[0] = BoolGetDatum(preloaded);
  values[1] = Int32GetDatum(st->worker_pid);
  nulls[1] = !alive;
  values[2] = BoolGetDatum(alive && st->listening);
  values[3] = Int32GetDatum(st->listen_port);
  nulls[3] = !(alive && st->listening);
  values[4] = stored_text(st->listen_error, st->encoding);
  nulls[4] = st->listen_error[0] == '\0';
  values[5] = Int64GetDatum(static_cast<int64>(st->scrapes_total));
  values[6] = Int64GetDatum(static_cast<int64>(st->scrape_errors_total));
  values[7] = TimestampTzGetDatum(to_timestamptz(st->last_scrape_time));
  nulls[7] = st->last_scrape_time == 0;
  values[8] = Float8GetDatum(st->last_scrape_duration);
  nulls[8] = st->last_scrape_time == 0;
  values[9] = stored_text(st->role, st->encoding);
  nulls[9] = !alive || st->role[0] == '\0';
  values[10] = stored_text(st->sql_error, st->encoding);
  nulls[10] = !alive || st->sql_error[0] == '\0';
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
