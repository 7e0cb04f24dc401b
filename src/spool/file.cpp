#include "spool/file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace spool {

namespace {

std::string errno_text(const char* what, const std::string& path) {
  return std::string(what) + " \"" + path + "\": " + std::strerror(errno);
}

}  // namespace

std::shared_ptr<File> File::create(const std::string& dir, std::string* why, std::function<void()> on_close,
                                   uint64_t keep_free, uint64_t max_bytes) {
  auto fail = [&](std::string reason) -> std::shared_ptr<File> {
    if (why != nullptr) *why = std::move(reason);
    if (on_close) on_close();
    return nullptr;
  };
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return fail(errno_text("could not create directory", dir));
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return fail(errno_text("could not read the free space of", dir));
  const uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (free_bytes <= keep_free) {
    return fail("only " + std::to_string(free_bytes >> 20) + " MB free on the file system of \"" + dir +
                "\" (a temporary file needs " + std::to_string(keep_free >> 20) + " MB left free)");
  }
  const uint64_t limit = std::min((free_bytes - keep_free) / 2, max_bytes);
  int fd = -1;
#ifdef O_TMPFILE
  fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
  if (fd < 0) {
    // No O_TMPFILE here (some overlay and network file systems): a named
    // file that nobody can open after the unlink. The pgsql_tmp prefix lets
    // the server's start-up clean-up remove it should we die in between.
    const std::string path = dir + "/pgsql_tmp" + std::to_string(::getpid()) + ".pg_exporter";
    fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return fail(errno_text("could not create file", path));
    if (::unlink(path.c_str()) != 0) {
      std::string reason = errno_text("could not remove file", path);
      ::close(fd);
      return fail(std::move(reason));
    }
  }
  return std::shared_ptr<File>(new File(fd, limit, std::move(on_close)));
}

File::~File() {
  ::close(fd_);
  if (on_close_) on_close_();
}

int64_t File::append(std::string_view data) {
  if (failed()) return -1;
  if (size_ + data.size() > limit_) {
    error_ = "temporary file reached its limit of " + std::to_string(limit_ >> 10) +
             " kB (half of the free space beyond what is kept free)";
    return -1;
  }
  const uint64_t start = size_;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(start + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = std::string("could not write temporary file: ") + (n < 0 ? std::strerror(errno) : "no space");
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  size_ += data.size();
  return static_cast<int64_t>(start);
}

bool File::read(uint64_t offset, uint64_t length, std::string* out) const {
  out->resize(length);
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_, out->data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace spool
