#include "procfs/process_stat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace procfs {

namespace {

// Splits on single spaces, bounded.
std::vector<std::string_view> fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size() && out.size() < 64) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n')) i++;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\n') j++;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
bool to_number(std::string_view s, T* out) {
  if (s.empty() || s.size() > 24) return false;
  char buf[32];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  if constexpr (std::is_signed_v<T>) {
    long long v = std::strtoll(buf, &end, 10);
    if (errno != 0 || end != buf + s.size()) return false;
    *out = static_cast<T>(v);
  } else {
    if (buf[0] == '-') return false;
    unsigned long long v = std::strtoull(buf, &end, 10);
    if (errno != 0 || end != buf + s.size()) return false;
    *out = static_cast<T>(v);
  }
  return true;
}

// Not a static object: this library is loaded into the postmaster, and static
// destructors would run at every backend exit.
double cached_boot_time = 0;

// Boot time with sub-second precision (realtime minus time since boot);
// /proc/stat's btime is whole seconds and would put the start time up to a
// second early. btime is the fallback.
std::optional<double> boot_time() {
  if (cached_boot_time > 0) return cached_boot_time;
  struct timespec real, boot;
  if (clock_gettime(CLOCK_REALTIME, &real) == 0 && clock_gettime(CLOCK_BOOTTIME, &boot) == 0) {
    cached_boot_time = (static_cast<double>(real.tv_sec) - static_cast<double>(boot.tv_sec)) +
                       (static_cast<double>(real.tv_nsec) - static_cast<double>(boot.tv_nsec)) / 1e9;
    return cached_boot_time;
  }
  auto text = read_file("/proc/stat", 1 << 20);
  if (!text) return std::nullopt;
  auto bt = parse_boot_time(*text);
  if (bt) cached_boot_time = *bt;
  return bt;
}

int count_dir_entries(const char* path, bool exclude_own_fd) {
  DIR* dir = opendir(path);
  if (dir == nullptr) return -1;
  int self_fd = dirfd(dir);
  int n = 0;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    if (exclude_own_fd && std::atoi(e->d_name) == self_fd) continue;
    n++;
  }
  closedir(dir);
  return n;
}

int cpu_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

std::optional<ProcessSample> sample(const std::string& dir, bool self, std::string* error) {
  auto stat_text = read_file(dir + "/stat");
  if (!stat_text) {
    *error = "cannot read " + dir + "/stat: " + std::strerror(errno);
    return std::nullopt;
  }
  auto st = parse_stat(*stat_text);
  if (!st) {
    *error = "cannot parse " + dir + "/stat";
    return std::nullopt;
  }
  auto bt = boot_time();
  if (!bt) {
    *error = "cannot read btime from /proc/stat";
    return std::nullopt;
  }
  long tck = sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);
  if (tck <= 0 || page <= 0) {
    *error = "sysconf(_SC_CLK_TCK/_SC_PAGESIZE) failed";
    return std::nullopt;
  }
  ProcessSample s;
  s.cpu_seconds_total = static_cast<double>(st->utime_ticks + st->stime_ticks) / static_cast<double>(tck);
  s.resident_bytes = static_cast<double>(st->rss_pages) * static_cast<double>(page);
  s.virtual_bytes = static_cast<double>(st->vsize_bytes);
  s.threads = static_cast<double>(st->num_threads);
  s.start_time_seconds = *bt + static_cast<double>(st->start_ticks) / static_cast<double>(tck);
  int fds = count_dir_entries((dir + "/fd").c_str(), self);
  if (fds < 0) {
    *error = "cannot list " + dir + "/fd: " + std::strerror(errno);
    return std::nullopt;
  }
  s.open_fds = fds;
  if (self) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
      *error = "getrlimit(RLIMIT_NOFILE) failed";
      return std::nullopt;
    }
    s.max_fds = rl.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                             : static_cast<double>(rl.rlim_cur);
  } else {
    auto limits = read_file(dir + "/limits");
    auto max = limits ? parse_max_open_files(*limits) : std::nullopt;
    if (!max) {
      *error = "cannot read Max open files from " + dir + "/limits";
      return std::nullopt;
    }
    s.max_fds = *max;
  }
  s.cpu_cores = cpu_cores();
  return s;
}

}  // namespace

std::optional<std::string> read_file(const std::string& path, size_t max_bytes) {
  int fd;
  do {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  while (out.size() < max_bytes) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      errno = saved;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (out.size() > max_bytes) out.resize(max_bytes);
  return out;
}

std::optional<StatFields> parse_stat(std::string_view text) {
  size_t close_paren = text.rfind(')');
  if (close_paren == std::string_view::npos || text.find('(') == std::string_view::npos) return std::nullopt;
  // After ") ": field 3 (state) is index 0, so field N is index N - 3.
  std::vector<std::string_view> f = fields(text.substr(close_paren + 1));
  if (f.size() < 22) return std::nullopt;
  StatFields s;
  if (f[0].size() != 1) return std::nullopt;
  s.state = f[0][0];
  bool ok = to_number(f[1], &s.ppid) && to_number(f[11], &s.utime_ticks) && to_number(f[12], &s.stime_ticks) &&
            to_number(f[17], &s.num_threads) && to_number(f[19], &s.start_ticks) &&
            to_number(f[20], &s.vsize_bytes) && to_number(f[21], &s.rss_pages);
  if (!ok) return std::nullopt;
  return s;
}

std::optional<double> parse_boot_time(std::string_view proc_stat) {
  size_t pos = 0;
  while (pos < proc_stat.size()) {
    size_t eol = proc_stat.find('\n', pos);
    std::string_view line = proc_stat.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (line.substr(0, 6) == "btime ") {
      unsigned long long v = 0;
      std::vector<std::string_view> f = fields(line);
      if (f.size() == 2 && to_number(f[1], &v) && v > 0) return static_cast<double>(v);
      return std::nullopt;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return std::nullopt;
}

std::optional<double> parse_max_open_files(std::string_view limits) {
  size_t pos = limits.find("Max open files");
  if (pos == std::string_view::npos) return std::nullopt;
  size_t eol = limits.find('\n', pos);
  std::vector<std::string_view> f = fields(limits.substr(pos + 14, eol == std::string_view::npos ? std::string_view::npos : eol - pos - 14));
  if (f.empty()) return std::nullopt;
  if (f[0] == "unlimited") return std::numeric_limits<double>::infinity();
  unsigned long long v = 0;
  if (!to_number(f[0], &v)) return std::nullopt;
  return static_cast<double>(v);
}

std::optional<ProcessSample> sample_self(std::string* error) { return sample("/proc/self", true, error); }

std::optional<ProcessSample> sample_pid(pid_t pid, std::string* error) {
  if (pid <= 0) {
    *error = "invalid pid";
    return std::nullopt;
  }
  return sample("/proc/" + std::to_string(pid), false, error);
}

}  // namespace procfs
