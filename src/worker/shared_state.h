// What the worker publishes for SQL sessions (pgexporter.collectors,
// pgexporter.worker_status): a small fixed-size block of shared memory.
// Plain C data only.
#pragma once

#include <cstdint>

namespace shared {

constexpr int kMaxCollectors = 64;

struct CollectorStatus {
  char name[64];
  bool ran;
  bool success;
  double duration_seconds;
  double last_scrape_time;  // Unix seconds, 0 = never
  char last_error[256];
};

struct Status {
  int worker_pid;   // 0 = not running
  int listen_port;  // 0 = not listening
  bool listening;
  char listen_error[256];
  uint64_t scrapes_total;
  uint64_t scrape_errors_total;
  double last_scrape_time;
  double last_scrape_duration;
  int ncollectors;
  CollectorStatus collectors[kMaxCollectors];
};

// Registers the shared memory request (only while preloading) and the
// startup hook. Called from _PG_init.
void install_hooks();
// False when the library was not preloaded.
bool available();
// Copies out / in under the lock. Never throw.
bool read(Status* out) noexcept;
// Applies fn to the shared block under an exclusive lock.
void update(void (*fn)(Status*, const void*), const void* arg) noexcept;

}  // namespace shared
