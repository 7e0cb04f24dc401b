#include "worker/shared_state.h"

#include <algorithm>
#include <cstring>

#include "pg/guard.h"

extern "C" {
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

namespace shared {

namespace {

struct Block {
  LWLock* lock;
  Status status;
};

Block* block = nullptr;
shmem_request_hook_type prev_request_hook = nullptr;
shmem_startup_hook_type prev_startup_hook = nullptr;

void request_shmem() {
  if (prev_request_hook) prev_request_hook();
  RequestAddinShmemSpace(MAXALIGN(sizeof(Block)));
  RequestNamedLWLockTranche("pg_exporter", 1);
}

void startup_shmem() {
  if (prev_startup_hook) prev_startup_hook();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  block = static_cast<Block*>(ShmemInitStruct("pg_exporter", sizeof(Block), &found));
  if (!found) {
    std::memset(block, 0, sizeof(Block));
    block->lock = &(GetNamedLWLockTranche("pg_exporter"))->lock;
  }
  LWLockRelease(AddinShmemInitLock);
}

}  // namespace

void install_hooks() {
  prev_request_hook = shmem_request_hook;
  shmem_request_hook = request_shmem;
  prev_startup_hook = shmem_startup_hook;
  shmem_startup_hook = startup_shmem;
}

bool available() { return block != nullptr; }

bool read(Status* out) noexcept {
  if (block == nullptr) return false;
  struct Args {
    Status* out;
  } args{out};
  pgx::GuardError err;
  return pgx::guarded_call(
      [](void* p) {
        LWLockAcquire(block->lock, LW_SHARED);
        std::memcpy(static_cast<Args*>(p)->out, &block->status, sizeof(Status));
        LWLockRelease(block->lock);
      },
      &args, &err);
}

void update(void (*fn)(Status*, const void*), const void* arg) noexcept {
  if (block == nullptr) return;
  struct Args {
    void (*fn)(Status*, const void*);
    const void* arg;
  } args{fn, arg};
  pgx::GuardError err;
  pgx::guarded_call(
      [](void* p) {
        auto* a = static_cast<Args*>(p);
        LWLockAcquire(block->lock, LW_EXCLUSIVE);
        block->status.encoding = GetDatabaseEncoding();
        a->fn(&block->status, a->arg);
        LWLockRelease(block->lock);
      },
      &args, &err);
}

void view(void (*fn)(const Status*, void*), void* arg) noexcept {
  if (block == nullptr) return;
  struct Args {
    void (*fn)(const Status*, void*);
    void* arg;
  } args{fn, arg};
  pgx::GuardError err;
  pgx::guarded_call(
      [](void* p) {
        auto* a = static_cast<Args*>(p);
        LWLockAcquire(block->lock, LW_SHARED);
        a->fn(&block->status, a->arg);
        LWLockRelease(block->lock);
      },
      &args, &err);
}

void set_text(char* field, size_t size, std::string_view text) noexcept {
  if (size == 0) return;
  const int encoding = GetDatabaseEncoding();
  size_t out = 0;
  const char* s = text.data();
  int left = static_cast<int>(std::min<size_t>(text.size(), 1 << 20));
  // Valid characters are kept whole; an invalid byte becomes '?'.
  while (left > 0 && out + 1 < size) {
    int valid = pg_encoding_verifymbstr(encoding, s, left);
    if (valid > 0) {
      int keep = pg_encoding_mbcliplen(encoding, s, valid, static_cast<int>(size - 1 - out));
      std::memcpy(field + out, s, static_cast<size_t>(keep));
      out += static_cast<size_t>(keep);
      if (keep < valid) break;  // full
      s += valid;
      left -= valid;
      continue;
    }
    field[out++] = '?';
    s++;
    left--;
  }
  field[out] = '\0';
}

}  // namespace shared

namespace shared {

void* my_latch() noexcept { return MyLatch; }

void wake(void* latch) noexcept {
  if (latch == nullptr) return;
  pgx::GuardError err;
  pgx::guarded_call([](void* l) { SetLatch(static_cast<Latch*>(l)); }, latch, &err);
}

}  // namespace shared
