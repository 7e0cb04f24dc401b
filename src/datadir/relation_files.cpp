#include "datadir/relation_files.h"

#include <sys/stat.h>

#include <cerrno>

namespace datadir {

namespace {

// Size of one file; nullopt when it does not exist (or is not a regular file).
std::optional<uint64_t> file_bytes(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

// A fork: the first file and then .1, .2, ... until one is missing. 1 GB
// segments make 32 TB tables 32768 files: bound the walk far above that.
uint64_t fork_bytes(const std::string& first, bool* exists) {
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

}  // namespace

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

std::optional<uint64_t> relation_files_bytes(std::string_view path) {
  if (!plausible_relation_path(path)) return std::nullopt;
  const std::string main(path);
  bool exists = false;
  uint64_t total = fork_bytes(main, &exists);
  if (!exists) return std::nullopt;
  for (const char* fork : {"_fsm", "_vm", "_init"}) {
    bool fork_exists = false;
    total += fork_bytes(main + fork, &fork_exists);
  }
  return total;
}

}  // namespace datadir
