// One scrape: run the chosen collectors, each in its own subtransaction and
// under its own statement timeout, inside one time budget. Pure C++ on top of
// the guarded session API; shared by the worker and the SQL function.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "metrics/sink.h"

namespace scrape {

struct Outcome;
struct Result;
struct RemoteResult;

// The worker's watch over user-defined parts: one that hangs past its hard
// deadline or stops the worker is quarantined instead of run again.
class PartGuard {
 public:
  virtual ~PartGuard() = default;
  // "" if the part may run, else why not.
  virtual std::string refuse(const std::string& name, const collectors::Part& part) = 0;
  virtual void started(const std::string& name, const collectors::Part& part) noexcept = 0;
  virtual void finished(const std::string& name, const collectors::Part& part, const Outcome& o,
                        int timeout_ms) noexcept = 0;
};

struct Options {
  std::vector<const collectors::Collector*> collectors;
  double budget_seconds = 0;     // whole scrape; 0 = unlimited
  int statement_timeout_ms = 0;  // per collector; 0 = do not arm (SQL function path)
  bool own_transaction = false;  // the worker begins/commits; a SQL call runs in its caller's
  std::string database;
  // Where large families go as they are written (see metrics::Sink); null:
  // everything in memory.
  std::shared_ptr<spool::File> spool;
  // Reads kept from the last scrape for this one (the worker's); null: every
  // read is fresh.
  std::shared_ptr<collectors::KeptReads> kept;
  // With kept reads: how long the sizes (file listings, pg_database_size)
  // are kept (0: read on every scrape).
  int size_ttl_ms = 0;
  // Non-empty: no SQL at all (the worker's identity could not be had), why.
  std::string sql_refused;
  // pg_exporter.superuser_metrics.
  bool superuser_owners_allowed = false;
  // The worker's: quarantines parts that hang or stop the worker, and stops a
  // part this long after its statement timeout whatever it does (0: none).
  PartGuard* part_guard = nullptr;
  int hard_deadline_grace_ms = 0;
  // Called between collectors and parts, with what the scrape knows so far
  // (the probe's answer): the worker answers HTTP meanwhile. Must not throw.
  std::function<void(const Result&)> between;
  // The worker's: runs a planned collector (custom metrics) in another
  // process, given what is left of the budget and the scrape so far (whose
  // families its parts may not take); null: here. May throw.
  std::function<RemoteResult(const collectors::Collector&, int budget_left_ms, const Result& so_far)> remote;
  // Family names no family of this scrape may take (that other process's
  // scrape: the families of the scrape it runs for).
  std::vector<std::string> reserved_families;
};

struct Outcome {
  const collectors::Collector* collector;
  std::string name;  // the collector's, or "<collector>:<part>" for a part
  bool ran = false;  // false: skipped (unsupported version, budget, database down)
  bool success = false;
  double duration = 0;
  std::string error;  // why it failed or was skipped
  // Skipped for the budget, or failed with less time than it is given when
  // the budget allows (its timeout cut to what was left).
  bool short_of_time = false;
};

struct Result {
  metrics::Sink sink;
  bool up = false;  // the database answered a query in this scrape
  int server_version = 0;
  bool in_recovery = false;
  std::vector<Outcome> outcomes;
  double duration = 0;
  std::string error;  // a scrape-level failure (transaction could not start/commit)
  // Every collector had the time it is given (none skipped or cut short by
  // the budget): the result is as good as one with a longer budget.
  bool complete() const;
};

Result run(const Options& opts);

// pg_up and the per-collector self-metrics of this scrape.
void add_scrape_metrics(const Result& r, metrics::Sink& out);

}  // namespace scrape
