// What the worker publishes for SQL sessions (pgexporter.collectors,
// pgexporter.worker_status) and keeps across its own restarts (the
// quarantined custom metrics): a fixed-size block of shared memory. Plain C
// data only. Text is stored valid in the worker's database encoding
// (`encoding`), cut at a character boundary.
#pragma once

#include <cstdint>
#include <string_view>

#include "collectors/custom_limits.h"

namespace shared {

// Every built-in collector and every custom metric fit.
constexpr int kMaxCollectors = 64 + collectors::kMaxCustomMetrics;
constexpr int kNameBytes = 128;  // "custom:" + a definition's name
static_assert(kNameBytes > 7 + collectors::kMaxCustomNameBytes, "a part's name must fit");

struct CollectorStatus {
  char name[kNameBytes];
  bool ran;
  bool success;
  double duration_seconds;
  double last_scrape_time;  // Unix seconds, 0 = never
  char last_error[512];
};

// A custom metric that hung past its hard deadline, stopped the worker or
// kept overrunning its timeout: not run until its definition is written
// again (a new row version).
struct Quarantined {
  char name[kNameBytes];  // "custom:<name>"
  char version[32];
  char why[256];
  double since;  // Unix seconds
};

// The main worker asks the custom metrics worker for one run of the custom
// collector: a request file, a sequence number and a latch each way (see
// worker/custom_client.h).
struct CustomExchange {
  void* main_latch;    // Latch* of each worker's PGPROC (shared memory)
  void* custom_latch;  // null: the custom metrics worker is not running
  int custom_pid;
  uint64_t requested;  // the last request's sequence number
  uint64_t answered;   // the last answered one
  bool stopped;        // answered because the custom metrics worker stopped
  char stop_error[256];
};

struct Status {
  int encoding;     // of the text below: the worker's database's
  int worker_pid;   // 0 = not running
  int listen_port;  // 0 = not listening
  bool listening;
  char listen_error[512];
  char role[64];        // the role its queries run as
  char sql_error[512];  // why it runs no SQL, or ""
  uint64_t scrapes_total;
  uint64_t scrape_errors_total;
  double last_scrape_time;
  double last_scrape_duration;
  int ncollectors;
  CollectorStatus collectors[kMaxCollectors];
  int nquarantined;
  Quarantined quarantined[collectors::kMaxCustomMetrics];
  CustomExchange custom;
};

// Registers the shared memory request (only while preloading) and the
// startup hook. Called from _PG_init.
void install_hooks();
// False when the library was not preloaded.
bool available();
// Copies out / in under the lock. Never throw.
bool read(Status* out) noexcept;
// Applies fn to the shared block under an exclusive lock. fn must not throw
// and must store text through set_text.
void update(void (*fn)(Status*, const void*), const void* arg) noexcept;
// Lets fn read the block under a shared lock (no copy of all of it).
void view(void (*fn)(const Status*, void*), void* arg) noexcept;
// Stores text into a field of the block: invalid bytes replaced, cut at a
// character boundary (the worker's database encoding). Inside update() only.
void set_text(char* field, size_t size, std::string_view text) noexcept;

// This process's latch, for another process to set (inside update() only).
void* my_latch() noexcept;
// Sets a latch another process stored. Never throws.
void wake(void* latch) noexcept;

}  // namespace shared
