#include "procfs/process_stat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace procfs {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// Whitespace-separated fields of s, at most max_fields of them.
std::vector<std::string_view> fields(std::string_view s, size_t max_fields) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size() && out.size() < max_fields) {
    while (i < s.size() && is_space(s[i])) i++;
    size_t j = i;
    while (j < s.size() && !is_space(s[j])) j++;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Plain decimal digits (optionally '-' for signed T) and nothing else: strtoll
// alone would also take "+5", " 5" and stop silently at "5x".
template <typename T>
bool to_number(std::string_view s, T* out) {
  if (s.empty() || s.size() > 24) return false;
  size_t digits_from = (std::is_signed_v<T> && s[0] == '-') ? 1 : 0;
  if (digits_from == s.size()) return false;
  for (size_t i = digits_from; i < s.size(); i++)
    if (s[i] < '0' || s[i] > '9') return false;
  char buf[32];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  errno = 0;
  if constexpr (std::is_signed_v<T>) {
    long long v = std::strtoll(buf, nullptr, 10);
    if (errno != 0 || v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return false;
    *out = static_cast<T>(v);
  } else {
    unsigned long long v = std::strtoull(buf, nullptr, 10);
    if (errno != 0 || v > std::numeric_limits<T>::max()) return false;
    *out = static_cast<T>(v);
  }
  return true;
}

// The lines of text, one at a time: calls fn(line) until it returns true.
template <typename Fn>
bool find_line(std::string_view text, Fn fn) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    if (fn(text.substr(pos, eol - pos))) return true;
    pos = eol + 1;
  }
  return false;
}

// A plain double, not a static object: this library is loaded into the
// postmaster, and static destructors would run at every backend exit. btime
// rather than CLOCK_REALTIME - CLOCK_BOOTTIME: the kernel's integer is the
// same in every process (and in other exporters), so a process's start time
// never jitters between scrapes or between our own processes.
double cached_boot_time = 0;

std::optional<double> boot_time(std::string* error) {
  if (cached_boot_time > 0) return cached_boot_time;
  // The intr line makes /proc/stat large on many-CPU machines; btime follows it.
  auto text = read_file("/proc/stat", size_t{4} << 20);
  if (!text) {
    *error = std::string("cannot read /proc/stat: ") + std::strerror(errno);
    return std::nullopt;
  }
  auto bt = parse_boot_time(*text);
  if (!bt) {
    *error = "no btime line in /proc/stat";
    return std::nullopt;
  }
  cached_boot_time = *bt;
  return bt;
}

// Entries of a /proc/.../fd directory, without the descriptor opendir() itself
// holds when it lists our own. -1 with errno on failure.
long count_fds(const std::string& path, bool exclude_own_fd) {
  DIR* dir = opendir(path.c_str());  // glibc opens it O_CLOEXEC
  if (dir == nullptr) return -1;
  const int own_fd = dirfd(dir);
  long n = 0;
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(dir);
    if (e == nullptr) break;
    if (e->d_name[0] == '.') continue;
    int fd = 0;
    if (exclude_own_fd && to_number(std::string_view(e->d_name), &fd) && fd == own_fd) continue;
    n++;
  }
  int saved = errno;
  closedir(dir);
  errno = saved;
  return saved == 0 ? n : -1;
}

// CPUs the process may run on; the fixed cpu_set_t covers 1024 CPUs, so grow
// the set when the kernel says EINVAL (more possible CPUs than that).
int cpu_cores(pid_t pid) {
  for (int ncpus = 1024; ncpus <= (1 << 16); ncpus *= 4) {
    cpu_set_t* set = CPU_ALLOC(ncpus);
    if (set == nullptr) break;
    size_t size = CPU_ALLOC_SIZE(ncpus);
    CPU_ZERO_S(size, set);
    int rc = sched_getaffinity(pid, size, set);
    int count = rc == 0 ? CPU_COUNT_S(size, set) : 0;
    int err = errno;
    CPU_FREE(set);
    if (rc == 0 && count > 0) return count;
    if (rc != 0 && err == EINVAL) continue;
    break;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

std::optional<ProcessSample> sample(const std::string& dir, pid_t pid, bool self, std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
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
  auto bt = boot_time(error);
  if (!bt) return std::nullopt;
  const long tck = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  if (tck <= 0 || page <= 0) {
    *error = "sysconf(_SC_CLK_TCK or _SC_PAGESIZE) failed";
    return std::nullopt;
  }
  ProcessSample s;
  s.cpu_seconds_total = static_cast<double>(st->utime_ticks + st->stime_ticks) / static_cast<double>(tck);
  s.resident_bytes = static_cast<double>(st->rss_pages) * static_cast<double>(page);
  s.virtual_bytes = static_cast<double>(st->vsize_bytes);
  s.threads = static_cast<double>(st->num_threads);
  s.start_time_seconds = *bt + static_cast<double>(st->start_ticks) / static_cast<double>(tck);

  long fds = count_fds(dir + "/fd", self);
  if (fds < 0) {
    *error = "cannot list " + dir + "/fd: " + std::strerror(errno);
    return std::nullopt;
  }
  s.open_fds = static_cast<double>(fds);

  if (self) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
      *error = std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
      return std::nullopt;
    }
    s.max_fds = rl.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                             : static_cast<double>(rl.rlim_cur);
  } else {
    auto limits = read_file(dir + "/limits");
    if (!limits) {
      *error = "cannot read " + dir + "/limits: " + std::strerror(errno);
      return std::nullopt;
    }
    auto max = parse_max_open_files(*limits);
    if (!max) {
      *error = "no Max open files line in " + dir + "/limits";
      return std::nullopt;
    }
    s.max_fds = *max;
  }
  s.cpu_cores = cpu_cores(pid);
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
    size_t want = std::min(sizeof(buf), max_bytes - out.size());
    ssize_t n = read(fd, buf, want);
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
  return out;
}

std::optional<StatFields> parse_stat(std::string_view text) {
  size_t open_paren = text.find('(');
  size_t close_paren = text.rfind(')');
  if (open_paren == std::string_view::npos || close_paren == std::string_view::npos ||
      close_paren < open_paren)
    return std::nullopt;
  // After the comm, field 3 (state) is index 0, so field N is index N - 3.
  // Field 25 (rsslim, present in every kernel) must exist too: otherwise a
  // line cut short inside rss would parse as a smaller number.
  std::vector<std::string_view> f = fields(text.substr(close_paren + 1), 23);
  if (f.size() < 23) return std::nullopt;
  StatFields s;
  if (f[0].size() != 1) return std::nullopt;
  s.state = f[0][0];
  bool ok = to_number(f[1], &s.ppid) && to_number(f[11], &s.utime_ticks) &&
            to_number(f[12], &s.stime_ticks) && to_number(f[17], &s.num_threads) &&
            to_number(f[19], &s.start_ticks) && to_number(f[20], &s.vsize_bytes) &&
            to_number(f[21], &s.rss_pages);
  if (!ok) return std::nullopt;
  return s;
}

std::optional<double> parse_boot_time(std::string_view proc_stat_text) {
  std::optional<double> result;
  find_line(proc_stat_text, [&](std::string_view line) {
    std::vector<std::string_view> f = fields(line, 3);
    if (f.empty() || f[0] != "btime") return false;
    unsigned long long v = 0;
    if (f.size() == 2 && to_number(f[1], &v) && v > 0) result = static_cast<double>(v);
    return true;
  });
  return result;
}

std::optional<double> parse_max_open_files(std::string_view limits_text) {
  static constexpr std::string_view kName = "Max open files";
  std::optional<double> result;
  find_line(limits_text, [&](std::string_view line) {
    if (line.substr(0, kName.size()) != kName) return false;
    // Soft limit, hard limit, units.
    std::vector<std::string_view> f = fields(line.substr(kName.size()), 3);
    unsigned long long v = 0;
    if (f.empty()) return true;
    if (f[0] == "unlimited")
      result = std::numeric_limits<double>::infinity();
    else if (to_number(f[0], &v))
      result = static_cast<double>(v);
    return true;
  });
  return result;
}

std::optional<ProcessSample> sample_self(std::string* error) { return sample("/proc/self", 0, true, error); }

std::optional<ProcessSample> sample_pid(pid_t pid, std::string* error) {
  if (pid <= 0) {
    if (error != nullptr) *error = "invalid pid " + std::to_string(pid);
    return std::nullopt;
  }
  return sample("/proc/" + std::to_string(pid), pid, false, error);
}

}  // namespace procfs
