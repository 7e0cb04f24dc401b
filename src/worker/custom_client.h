// The main worker's side of the exchange with the custom metrics worker: one
// request for the custom collector per scrape, a file each way in the data
// directory's pg_stat_tmp (where pg_stat_statements keeps its query texts), a
// sequence number and a latch each way in shared memory. The main worker
// serves HTTP while it waits.
#pragma once

#include <functional>

#include "scrape/remote.h"

namespace worker {

// The two files, relative to the data directory (the workers' working
// directory); each is rewritten whole (a rename) every scrape.
constexpr const char* kCustomRequestFile = "pg_stat_tmp/pg_exporter_custom.request";
constexpr const char* kCustomResultFile = "pg_stat_tmp/pg_exporter_custom.result";
// Larger than any answer can be: more is an error.
constexpr size_t kMaxCustomFileBytes = size_t{64} << 20;

// Writes `bytes` to path (through a temporary name and a rename, so a reader
// sees all or nothing). "" or why not.
std::string write_file_atomically(const char* path, const std::string& bytes);
// "" or why not.
std::string read_file(const char* path, std::string* bytes);

class CustomClient {
 public:
  // Asks for one run and waits for its answer, at most req.budget_ms plus the
  // hard deadline's grace: `wait(ms)` waits for a socket or the latch (and
  // serves the socket). Throws what wait throws.
  scrape::RemoteResult run(const scrape::RemoteRequest& req, const std::function<void(long ms)>& wait);
};

}  // namespace worker
