#include "pg/wait_set.h"

#include "pg/guard.h"

extern "C" {
#include "postgres.h"

#include "miscadmin.h"

#include "pg/compat/wait_set.h"
}

namespace pgx {

namespace {
constexpr int kMaxReady = 64;

void free_set(void* set) {
  GuardError ignored;
  guarded_call([](void* s) { FreeWaitEventSet(static_cast<WaitEventSet*>(s)); }, set, &ignored);
}
}  // namespace

WaitSet::~WaitSet() {
  if (set_ != nullptr) free_set(set_);
}

void WaitSet::rebuild(const std::vector<SocketInterest>& sockets) {
  if (set_ != nullptr) {
    free_set(set_);
    set_ = nullptr;
  }
  const SocketInterest* items = sockets.data();
  int n = static_cast<int>(sockets.size());
  WaitEventSet* set = nullptr;
  guard([&] {
    set = pgx_create_wait_event_set(n + 2);
    AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
    AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
    for (int i = 0; i < n; i++) {
      uint32 events = (items[i].read ? WL_SOCKET_READABLE : 0) | (items[i].write ? WL_SOCKET_WRITEABLE : 0);
      if (events == 0) continue;
      AddWaitEventToSet(set, events, items[i].fd, NULL, NULL);
    }
  });
  set_ = set;
  capacity_ = n + 2;
}

std::vector<ReadyEvent> WaitSet::wait(long timeout_ms) {
  if (set_ == nullptr) throw PgError("pg_exporter: wait set not built", "XX000");
  WaitEvent events[kMaxReady];
  int nready = 0;
  auto* set = static_cast<WaitEventSet*>(set_);
  guard([&] { nready = WaitEventSetWait(set, timeout_ms, events, kMaxReady, PG_WAIT_EXTENSION); });
  std::vector<ReadyEvent> out;
  out.reserve(nready);
  for (int i = 0; i < nready; i++) {
    if (events[i].events & WL_LATCH_SET) {
      out.push_back({-1, false, false});
      continue;
    }
    out.push_back({static_cast<int>(events[i].fd), (events[i].events & WL_SOCKET_READABLE) != 0,
                   (events[i].events & WL_SOCKET_WRITEABLE) != 0});
  }
  return out;
}

}  // namespace pgx
