#include "datadir/relation_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

namespace datadir {

RelationFiles::~RelationFiles() {
  if (dirfd_ >= 0) ::close(dirfd_);
}

// Size of one file; nullopt when it does not exist (or is not a regular file).
std::optional<uint64_t> RelationFiles::file_bytes(const std::string& name) const {
  if (names_.count(name) == 0) return std::nullopt;  // did not exist when listed
  struct stat st;
  if (::fstatat(dirfd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(st.st_size);
}

// A fork: the first file and then .1, .2, ... until one is missing. 1 GB
// segments make 32 TB tables 32768 files: bound the walk far above that.
uint64_t RelationFiles::fork_bytes(const std::string& first, bool* exists) const {
  auto size = file_bytes(first);
  *exists = size.has_value();
  if (!size) return 0;
  uint64_t total = *size;
  for (int segment = 1; segment < 1 << 20; segment++) {
    auto more = file_bytes(first + "." + std::to_string(segment));
    if (!more) break;
    total += *more;
  }
  return total;
}

std::optional<uint64_t> RelationFiles::bytes(std::string_view path) {
  if (!plausible_relation_path(path)) return std::nullopt;
  const size_t slash = path.rfind('/');
  const std::string_view dir = path.substr(0, slash);
  if (dirfd_ < 0 || dir != dir_) open_dir(dir);
  if (dirfd_ < 0) return std::nullopt;
  const std::string main(path.substr(slash + 1));
  bool exists = false;
  uint64_t total = fork_bytes(main, &exists);
  if (!exists) return std::nullopt;
  for (const char* fork : {"_fsm", "_vm", "_init"}) {
    bool fork_exists = false;
    total += fork_bytes(main + fork, &fork_exists);
  }
  return total;
}

void RelationFiles::open_dir(std::string_view dir) {
  if (dirfd_ >= 0) ::close(dirfd_);
  names_.clear();
  dir_.assign(dir);
  dirfd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd_ < 0) return;
  // readdir on a duplicate: fdopendir takes over the descriptor it is given.
  int listing_fd = ::dup(dirfd_);
  std::unique_ptr<DIR, int (*)(DIR*)> d(listing_fd < 0 ? nullptr : ::fdopendir(listing_fd), &::closedir);
  if (!d) {
    if (listing_fd >= 0) ::close(listing_fd);
    ::close(dirfd_);
    dirfd_ = -1;
    return;
  }
  while (const dirent* e = ::readdir(d.get())) names_.emplace(e->d_name);
}

bool plausible_relation_path(std::string_view path) {
  if (!(path.rfind("base/", 0) == 0 || path.rfind("global/", 0) == 0 || path.rfind("pg_tblspc/", 0) == 0)) {
    return false;
  }
  if (path.find("..") != std::string_view::npos || path.back() == '/') return false;
  for (char c : path) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<uint64_t> relation_files_bytes(std::string_view path) { return RelationFiles().bytes(path); }

}  // namespace datadir
