#include "datadir/relation_files.h"

#include <sys/stat.h>

#include <algorithm>
#include <string>

namespace datadir {

namespace {

constexpr const char* kForkSuffix[4] = {"", "_fsm", "_vm", "_init"};

std::optional<uint64_t> file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

// The relation's files one by one, as PostgreSQL adds them up: each fork
// until its first missing segment. nullopt without a main fork.
std::optional<uint64_t> stat_relation(std::string_view path) {
  const std::string base(path);
  if (!file_size(base)) return std::nullopt;
  uint64_t total = 0;
  for (const char* suffix : kForkSuffix) {
    const std::string fork = base + suffix;
    for (uint32_t seg = 0;; seg++) {
      auto size = file_size(seg == 0 ? fork : fork + "." + std::to_string(seg));
      if (!size) break;
      total += *size;
    }
  }
  return total;
}

}  // namespace

std::optional<uint64_t> RelationFiles::bytes(std::string_view path) {
  if (!plausible_relation_path(path)) return std::nullopt;
  const size_t slash = path.rfind('/');
  auto main = parse_name(path.substr(slash + 1));
  if (!main || main->fork != 0 || main->segment != 0) return std::nullopt;
  return bytes(path.substr(0, slash), main->node);
}

std::optional<uint64_t> RelationFiles::bytes(std::string_view dir, uint32_t node) {
  if (!looked_ || dir != dir_) {
    if (!plausible_relation_path(std::string(dir) + "/0")) return std::nullopt;  // a folder of relations
    dir_.assign(dir);
    listing_ = sizes_->listing(dir_);
    looked_ = true;
  }
  if (listing_ == nullptr) return std::nullopt;
  File main;
  main.node = node;
  // This relation's files as listed, in (fork, segment) order. Like
  // PostgreSQL's own sum, a fork ends at its first missing segment.
  const std::vector<File>& files = listing_->files;
  auto it = std::lower_bound(files.begin(), files.end(), main);
  if (it == files.end() || it->node != node || it->fork != 0 || it->segment != 0) {
    misses_++;
    if (misses_ == kRelistAfter && !relisted_) {
      relisted_ = true;
      listing_ = sizes_->relist(dir_);
      misses_--;  // counted again if the new listing misses it too
      return bytes(dir, node);
    }
    std::string path(dir);
    path.append("/").append(std::to_string(node));
    return stat_relation(path);
  }
  uint64_t total = 0;
  int fork = -1;
  uint32_t next_segment = 0;
  for (; it != files.end() && it->node == node; ++it) {
    if (it->fork != fork) {
      fork = it->fork;
      next_segment = 0;
    }
    if (it->segment != next_segment) continue;  // after a gap: not part of the fork
    total += it->size;
    next_segment++;
  }
  return total;
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

}  // namespace datadir
