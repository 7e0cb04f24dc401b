#include "worker/custom_worker.h"

#include "collectors/collector.h"
#include "guc.h"
#include "metrics/render.h"
#include "pg/backend.h"
#include "pg/session.h"
#include "scrape/remote.h"
#include "worker/custom_client.h"
#include "worker/shared_state.h"

namespace worker {

namespace {

// A definition still running this long after its statement timeout (it
// caught the cancel) is stopped with this worker, and quarantined.
constexpr int kHardDeadlineGraceMs = 1000;

std::string str(const char* s) { return s ? s : ""; }

uint64_t requested() {
  uint64_t seq = 0;
  shared::view([](const shared::Status* st, void* p) { *static_cast<uint64_t*>(p) = st->custom.requested; },
               &seq);
  return seq;
}

}  // namespace

CustomWorker::CustomWorker() : database_(str(guc::database)), role_(str(guc::role)), identity_(role_) {
  quarantine_.start();
  identity_.refresh();
  // What was asked before this worker ran is not answered: the asker has
  // stopped waiting.
  answered_ = requested();
  shared::update(
      [](shared::Status* st, const void* p) {
        st->custom.custom_pid = pgx::my_pid();
        st->custom.answered = *static_cast<const uint64_t*>(p);
        st->custom.custom_latch = shared::my_latch();
      },
      &answered_);
}

void CustomWorker::run() {
  for (;;) {
    try {
      pgx::wait_for_latch(-1);
      pgx::reset_latch_and_check_interrupts();
      if (pgx::reload_config_if_requested()) {
        if (str(guc::database) != database_ || str(guc::role) != role_)
          pgx::restart_worker("pg_exporter.database or pg_exporter.role changed");
        identity_.refresh();
      }
      const uint64_t seq = requested();
      if (seq > answered_) serve(seq);
    } catch (const std::exception& e) {
      if (pgx::in_transaction()) pgx::abort_transaction();
      pgx::log(pgx::LogLevel::kWarning, std::string("custom metrics worker: ") + e.what());
      pgx::backoff(100);
    } catch (...) {
      if (pgx::in_transaction()) pgx::abort_transaction();
      pgx::backoff(100);
    }
  }
}

void CustomWorker::serve(uint64_t seq) {
  scrape::RemoteResult out;
  std::string bytes, why;
  scrape::RemoteRequest req;
  out.error = read_file(kCustomRequestFile, &bytes);
  if (out.error.empty() && !scrape::decode(bytes, &req, &why)) out.error = "the request: " + why;
  if (!out.error.empty()) {
    answer(seq, out);
    return;
  }
  scrape::Options opts;
  opts.collectors = {collectors::find("custom")};
  opts.budget_seconds = req.budget_ms / 1000.0;
  opts.statement_timeout_ms = req.statement_timeout_ms;
  opts.own_transaction = true;
  opts.database = database_;
  opts.sql_refused = identity_.refused();
  opts.superuser_owners_allowed = req.superuser_owners_allowed;
  opts.part_guard = &quarantine_;
  opts.hard_deadline_grace_ms = kHardDeadlineGraceMs;
  opts.reserved_families = std::move(req.taken);
  scrape::Result r = scrape::run(opts);
  quarantine_.prune(r);
  if (!r.error.empty() && r.outcomes.empty()) {
    out.error = r.error;
  } else {
    out.outcomes = std::move(r.outcomes);
    out.rendered = metrics::render(r.sink);  // (no spool file: in memory)
  }
  answer(seq, out);
}

void CustomWorker::answer(uint64_t seq, const scrape::RemoteResult& result) {
  std::string why = write_file_atomically(kCustomResultFile, scrape::encode(result));
  if (!why.empty()) pgx::log(pgx::LogLevel::kWarning, "custom metrics worker: " + why);
  answered_ = seq;
  void* main_latch = nullptr;
  struct Args {
    uint64_t seq;
    void** latch;
  } args{seq, &main_latch};
  shared::update(
      [](shared::Status* st, const void* p) {
        const auto* a = static_cast<const Args*>(p);
        st->custom.answered = a->seq;
        st->custom.stopped = false;
        *a->latch = st->custom.main_latch;
      },
      &args);
  shared::wake(main_latch);
}

}  // namespace worker
