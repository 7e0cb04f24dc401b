#include "worker/custom_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "collectors/collector.h"
#include "pg/session.h"
#include "worker/shared_state.h"

namespace worker {

namespace {

// How much longer than its budget a run may take: a definition that ignores
// its timeout is stopped one second after it (scrape::Options).
constexpr double kGraceSeconds = 2.0;

struct Snapshot {
  void* custom_latch;
  uint64_t requested;
  uint64_t answered;
  bool stopped;
  char stop_error[256];
};

Snapshot snapshot() {
  Snapshot s{};
  shared::view(
      [](const shared::Status* st, void* p) {
        auto* out = static_cast<Snapshot*>(p);
        out->custom_latch = st->custom.custom_latch;
        out->requested = st->custom.requested;
        out->answered = st->custom.answered;
        out->stopped = st->custom.stopped;
        std::memcpy(out->stop_error, st->custom.stop_error, sizeof out->stop_error);
      },
      &s);
  return s;
}

}  // namespace

std::string write_file_atomically(const char* path, const std::string& bytes) {
  const std::string tmp = std::string(path) + ".new";
  // initdb makes the folder; make it if someone removed it.
  std::string dir(path);
  dir.resize(dir.rfind('/'));
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return dir + ": " + std::strerror(errno);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return tmp + ": " + std::strerror(errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = tmp + ": " + std::strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return why;
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  if (rename(tmp.c_str(), path) != 0) {
    std::string why = std::string(path) + ": " + std::strerror(errno);
    unlink(tmp.c_str());
    return why;
  }
  return "";
}

std::string read_file(const char* path, std::string* bytes) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string(path) + ": " + std::strerror(errno);
  bytes->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string why = std::string(path) + ": " + std::strerror(errno);
      close(fd);
      return why;
    }
    if (n == 0) break;
    if (bytes->size() + static_cast<size_t>(n) > kMaxCustomFileBytes) {
      close(fd);
      return std::string(path) + ": larger than " + std::to_string(kMaxCustomFileBytes >> 20) + " MB";
    }
    bytes->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return "";
}

scrape::RemoteResult CustomClient::run(const scrape::RemoteRequest& req,
                                       const std::function<void(long ms)>& wait) {
  scrape::RemoteResult out;
  if (snapshot().custom_latch == nullptr) {
    out.error = "the custom metrics worker is not running (PostgreSQL starts it again 5 s after it stops)";
    return out;
  }
  out.error = write_file_atomically(kCustomRequestFile, scrape::encode(req));
  if (!out.error.empty()) return out;
  uint64_t seq = 0;
  void* latch = nullptr;
  struct Args {
    uint64_t* seq;
    void** latch;
  } args{&seq, &latch};
  shared::update(
      [](shared::Status* st, const void* p) {
        const auto* a = static_cast<const Args*>(p);
        *a->seq = ++st->custom.requested;
        *a->latch = st->custom.custom_latch;
      },
      &args);
  shared::wake(latch);

  const double deadline = pgx::monotonic_seconds() + req.budget_ms / 1000.0 + kGraceSeconds;
  for (;;) {
    Snapshot s = snapshot();
    if (s.answered >= seq) {
      if (s.stopped && s.answered == seq) {
        out.error = s.stop_error;
        return out;
      }
      break;
    }
    if (s.custom_latch == nullptr) {
      out.error = "the custom metrics worker stopped before it answered";
      return out;
    }
    const double left = deadline - pgx::monotonic_seconds();
    if (left <= 0) {
      out.error = "the custom metrics worker did not answer within the scrape's budget";
      out.short_of_time = true;
      return out;
    }
    wait(static_cast<long>(std::ceil(std::min(left, 0.1) * 1000.0)));
  }
  std::string bytes, why;
  out.error = read_file(kCustomResultFile, &bytes);
  if (!out.error.empty()) return out;
  if (!scrape::decode(bytes, collectors::find("custom"), &out, &why)) {
    out = scrape::RemoteResult();
    out.error = "the custom metrics worker's answer: " + why;
  }
  return out;
}

}  // namespace worker
