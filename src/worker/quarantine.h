// The custom metrics worker's watch over the definitions it runs
// (scrape::PartGuard): one that runs past its hard deadline, stops the worker
// (its own pg_terminate_backend, a FATAL) or times out three scrapes in a row
// is not run again until its definition is written again. The list lives in
// shared memory, so it outlives the worker that the definition stopped; the
// main worker reads it for its self-metrics.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "scrape/scrape.h"

namespace worker {

class Quarantine : public scrape::PartGuard {
 public:
  // Consecutive timeouts that quarantine a definition.
  static constexpr int kMaxOverruns = 3;

  // Loads the list from shared memory and registers the exit hook that
  // quarantines the part running when the worker stops (and answers the
  // main worker's request it was running). Once, in the custom metrics worker.
  void start();

  std::string refuse(const std::string& name, const collectors::Part& part) override;
  void started(const std::string& name, const collectors::Part& part) noexcept override;
  void finished(const std::string& name, const collectors::Part& part, const scrape::Outcome& o,
                int timeout_ms) noexcept override;

  // Forgets the entries of definitions that no longer exist, when the scrape
  // saw the whole list of definitions.
  void prune(const scrape::Result& r);

  struct Entry {
    std::string name;
    std::string version;
    std::string why;
    double since = 0;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  // The list as the custom metrics worker last published it.
  static std::vector<Entry> published();

 private:
  void add(const std::string& name, const std::string& version, const std::string& why);
  void publish() const;

  std::vector<Entry> entries_;
  std::map<std::string, std::pair<std::string, int>> overruns_;  // name -> (version, count)
};

}  // namespace worker
