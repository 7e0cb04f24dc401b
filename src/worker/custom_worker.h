// The custom metrics worker: a background worker of its own that runs the
// custom collector when the main worker asks (worker/custom_client.h). A
// user-defined query that hangs past its hard deadline or ends its own
// backend stops this worker, never the one that serves HTTP, and none of its
// session state can reach the built-in collectors' session.
#pragma once

#include <cstdint>
#include <string>

#include "worker/identity.h"
#include "worker/quarantine.h"

namespace worker {

class CustomWorker {
 public:
  CustomWorker();
  // Returns only by process exit (SIGTERM, postmaster death, a database or
  // role change).
  [[noreturn]] void run();

 private:
  void serve(uint64_t seq);
  void answer(uint64_t seq, const scrape::RemoteResult& result);

  std::string database_;
  std::string role_;
  Identity identity_;
  Quarantine quarantine_;
  uint64_t answered_ = 0;
};

}  // namespace worker
