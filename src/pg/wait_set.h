// The worker's one event loop primitive: a WaitEventSet over its latch,
// postmaster death and the HTTP sockets. Guarded; no PostgreSQL header here.
#pragma once

#include <vector>

namespace pgx {

struct SocketInterest {
  int fd;
  bool read;
  bool write;
};

struct ReadyEvent {
  int fd;  // -1 for the latch
  bool readable;
  bool writable;
};

class WaitSet {
 public:
  WaitSet() = default;
  WaitSet(const WaitSet&) = delete;
  WaitSet& operator=(const WaitSet&) = delete;
  ~WaitSet();

  // There is no way to remove one socket from a WaitEventSet: rebuild it
  // whenever the set of sockets changes (cheap at these sizes).
  void rebuild(const std::vector<SocketInterest>& sockets);
  // Waits up to timeout_ms (-1 = forever). Exits the process if the
  // postmaster dies. Throws PgError.
  std::vector<ReadyEvent> wait(long timeout_ms);

 private:
  void* set_ = nullptr;  // WaitEventSet*
  int capacity_ = 0;
};

}  // namespace pgx
