// One scrape: run the chosen collectors, each in its own subtransaction and
// under its own statement timeout, inside one time budget. Pure C++ on top of
// the guarded session API; shared by the worker and the SQL function.
#pragma once

#include <string>
#include <vector>

#include "collectors/collector.h"
#include "metrics/sink.h"

namespace scrape {

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
};

struct Outcome {
  const collectors::Collector* collector;
  std::string name;  // the collector's, or "<collector>:<part>" for a part
  bool ran = false;  // false: skipped (unsupported version, budget, database down)
  bool success = false;
  double duration = 0;
  std::string error;  // why it failed or was skipped
};

struct Result {
  metrics::Sink sink;
  bool up = false;  // the database answered a query in this scrape
  int server_version = 0;
  bool in_recovery = false;
  std::vector<Outcome> outcomes;
  double duration = 0;
  std::string error;  // a scrape-level failure (transaction could not start/commit)
};

Result run(const Options& opts);

// pg_up and the per-collector self-metrics of this scrape.
void add_scrape_metrics(const Result& r, metrics::Sink& out);

}  // namespace scrape
