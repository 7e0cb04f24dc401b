#include "datadir/directory_sizes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>

namespace datadir {

namespace {

std::optional<std::vector<DirectorySizes::Entry>> list(const std::string& dir) {
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
  std::vector<DirectorySizes::Entry> out;
  while (const dirent* e = ::readdir(d.get())) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    struct stat st;
    if (::fstatat(fd, e->d_name, &st, 0) != 0) continue;  // gone since listed
    out.push_back({e->d_name, static_cast<uint64_t>(st.st_size), S_ISREG(st.st_mode)});
  }
  return out;
}

}  // namespace

const std::vector<DirectorySizes::Entry>* DirectorySizes::entries(const std::string& dir) {
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) it = dirs_.emplace(dir, list(dir)).first;
  return it->second ? &*it->second : nullptr;
}

std::optional<uint64_t> DirectorySizes::total_bytes(const std::string& dir) {
  const std::vector<Entry>* e = entries(dir);
  if (e == nullptr) return std::nullopt;
  uint64_t total = 0;
  for (const Entry& x : *e) total += x.size;
  return total;
}

}  // namespace datadir
