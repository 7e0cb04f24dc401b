// /proc parsers for one process. Pure C++ (no PostgreSQL header): the parsers
// take text so tests can feed them fixtures; the readers read only the named
// process's own entries (never a scan of /proc). Nothing here throws on bad
// input; only std::bad_alloc may escape.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace procfs {

// The fields of /proc/<pid>/stat that we use (numbers as in proc(5)).
struct StatFields {
  char state = '?';                    // field 3
  long ppid = 0;                       // field 4
  unsigned long long utime_ticks = 0;  // field 14, clock ticks
  unsigned long long stime_ticks = 0;  // field 15, clock ticks
  long num_threads = 0;                // field 20
  unsigned long long start_ticks = 0;  // field 22, clock ticks after boot
  unsigned long long vsize_bytes = 0;  // field 23
  long long rss_pages = 0;             // field 24
};

// comm (field 2) may hold spaces and ')': fields are read after the last ')'.
// nullopt for anything malformed or truncated.
std::optional<StatFields> parse_stat(std::string_view text);
// The btime line of /proc/stat: boot time in Unix seconds.
std::optional<double> parse_boot_time(std::string_view proc_stat_text);
// Soft "Max open files" of /proc/<pid>/limits; +Inf for "unlimited".
std::optional<double> parse_max_open_files(std::string_view limits_text);

struct ProcessSample {
  double cpu_seconds_total = 0;  // (utime + stime) / CLK_TCK
  double resident_bytes = 0;     // rss pages * page size
  double virtual_bytes = 0;
  double threads = 0;
  double open_fds = 0;
  double max_fds = 0;             // soft RLIMIT_NOFILE; +Inf if unlimited
  double start_time_seconds = 0;  // btime + starttime / CLK_TCK, Unix seconds
  int cpu_cores = 0;              // CPUs in the process's affinity mask
};

// This process. On failure returns nullopt and says why in *error (may be null).
std::optional<ProcessSample> sample_self(std::string* error);
// Another process (e.g. another PostgreSQL server process), from /proc/<pid>.
std::optional<ProcessSample> sample_pid(pid_t pid, std::string* error);

// Reads a whole small file, at most max_bytes of it (open/read/close, O_CLOEXEC,
// EINTR retried). nullopt on error, with errno set.
std::optional<std::string> read_file(const std::string& path, size_t max_bytes = 65536);

}  // namespace procfs
