#include "datadir/directory_sizes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

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

std::optional<DirectorySizes::Listing> list(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  // fstatat() from the folder resolves one name, not the whole path.
  std::unique_ptr<int, void (*)(int*)> guard(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  const int listing_fd = ::dup(fd);
  std::unique_ptr<DIR, int (*)(DIR*)> d(listing_fd < 0 ? nullptr : ::fdopendir(listing_fd), &::closedir);
  if (!d) {
    if (listing_fd >= 0) ::close(listing_fd);
    return std::nullopt;
  }
  DirectorySizes::Listing out;
  out.taken = DirectorySizes::Clock::now();
  while (const dirent* e = ::readdir(d.get())) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    struct stat st;
    if (::fstatat(fd, e->d_name, &st, 0) != 0) continue;  // gone since listed
    out.total += static_cast<uint64_t>(st.st_size);
    if (!S_ISREG(st.st_mode)) continue;
    if (auto f = RelationFile::parse_name(e->d_name)) {
      f->size = static_cast<uint64_t>(st.st_size);
      out.files.push_back(*f);
    }
  }
  std::sort(out.files.begin(), out.files.end());
  out.files.shrink_to_fit();
  return out;
}

}  // namespace

std::optional<RelationFile> RelationFile::parse_name(std::string_view name) {
  RelationFile f;
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

const DirectorySizes::Listing* DirectorySizes::listing(const std::string& dir) {
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) it = dirs_.emplace(dir, list(dir)).first;
  return it->second ? &*it->second : nullptr;
}

const DirectorySizes::Listing* DirectorySizes::relist(const std::string& dir) {
  auto it = dirs_.find(dir);
  if (it != dirs_.end() && it->second && it->second->relisted) return &*it->second;
  std::optional<Listing> fresh = list(dir);
  if (!fresh) return listing(dir);  // unreadable now: keep what there is
  fresh->relisted = true;
  dirs_[dir] = std::move(fresh);  // in place: pointers to the old listing see the new one
  return listing(dir);
}

std::optional<uint64_t> DirectorySizes::total_bytes(const std::string& dir) {
  const Listing* l = listing(dir);
  if (l == nullptr) return std::nullopt;
  return l->total;
}

void DirectorySizes::expire(Clock::duration max_age, Clock::time_point now) {
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    // An unreadable folder is tried again at once.
    if (!it->second || max_age.count() <= 0 || now - it->second->taken >= max_age) {
      it = dirs_.erase(it);
    } else {
      ++it;
    }
  }
}

double DirectorySizes::oldest_age_seconds(Clock::time_point now) const {
  double age = 0;
  for (const auto& [dir, l] : dirs_) {
    if (l && l->taken < now) age = std::max(age, std::chrono::duration<double>(now - l->taken).count());
  }
  return age;
}

}  // namespace datadir
