#include "datadir/relation_files.h"

#include <algorithm>

namespace datadir {

namespace {

constexpr const char* kForkSuffix[4] = {"", "_fsm", "_vm", "_init"};

// Digits only, no sign, fits in uint32 (relfilenodes and segment numbers).
std::optional<uint32_t> parse_u32(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(v);
}

}  // namespace

std::optional<RelationFiles::File> RelationFiles::parse_name(std::string_view name) {
  File f;
  const size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    auto seg = parse_u32(name.substr(dot + 1));
    if (!seg || *seg == 0) return std::nullopt;
    f.segment = *seg;
    name = name.substr(0, dot);
  }
  const size_t us = name.find('_');
  if (us != std::string_view::npos) {
    const std::string_view suffix = name.substr(us);
    bool known = false;
    for (uint8_t k = 1; k < 4; k++) {
      if (suffix == kForkSuffix[k]) {
        f.fork = k;
        known = true;
      }
    }
    if (!known) return std::nullopt;
    name = name.substr(0, us);
  }
  auto node = parse_u32(name);
  if (!node) return std::nullopt;
  f.node = *node;
  return f;
}

void RelationFiles::index_dir(std::string_view dir) {
  dir_.assign(dir);
  indexed_ = true;
  files_.clear();
  const std::vector<DirectorySizes::Entry>* entries = sizes_->entries(dir_);
  readable_ = entries != nullptr;
  if (!readable_) return;
  for (const DirectorySizes::Entry& e : *entries) {
    if (!e.regular) continue;
    if (auto f = parse_name(e.name)) {
      f->size = e.size;
      files_.push_back(*f);
    }
  }
  std::sort(files_.begin(), files_.end());
}

std::optional<uint64_t> RelationFiles::bytes(std::string_view path) {
  if (!plausible_relation_path(path)) return std::nullopt;
  const size_t slash = path.rfind('/');
  const std::string_view dir = path.substr(0, slash);
  if (!indexed_ || dir != dir_) index_dir(dir);
  if (!readable_) return std::nullopt;
  auto main = parse_name(path.substr(slash + 1));
  if (!main || main->fork != 0 || main->segment != 0) return std::nullopt;
  // This relation's files as listed, in (fork, segment) order. Like
  // PostgreSQL's own sum, a fork ends at its first missing segment.
  auto it = std::lower_bound(files_.begin(), files_.end(), *main);
  if (it == files_.end() || it->node != main->node || it->fork != 0 || it->segment != 0) return std::nullopt;
  uint64_t total = 0;
  int fork = -1;
  uint32_t next_segment = 0;
  for (; it != files_.end() && it->node == main->node; ++it) {
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
