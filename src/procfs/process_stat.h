// /proc parsers for one process. Pure C++: the parsers take text so tests can
// feed them fixtures; the readers read only the named process's entries
// (never a scan of /proc).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace procfs {

// The fields of /proc/<pid>/stat that we use.
struct StatFields {
  char state = '?';
  long ppid = 0;
  unsigned long long utime_ticks = 0;   // field 14
  unsigned long long stime_ticks = 0;   // field 15
  long num_threads = 0;                 // field 20
  unsigned long long start_ticks = 0;   // field 22, clock ticks after boot
  unsigned long long vsize_bytes = 0;   // field 23
  long long rss_pages = 0;              // field 24
};

// comm may hold spaces and ')': fields are read after the last ')'.
std::optional<StatFields> parse_stat(std::string_view text);
// The btime line of /proc/stat: boot time in Unix seconds.
std::optional<double> parse_boot_time(std::string_view proc_stat);
// "Max open files" soft limit from /proc/<pid>/limits; +Inf for unlimited.
std::optional<double> parse_max_open_files(std::string_view limits);

struct ProcessSample {
  double cpu_seconds_total = 0;  // (utime + stime) / CLK_TCK
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double threads = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;  // boot time + start ticks / CLK_TCK
  int cpu_cores = 0;
};

// This process. On failure returns nullopt and says why in *error.
std::optional<ProcessSample> sample_self(std::string* error);
// Another process (e.g. another PostgreSQL backend).
std::optional<ProcessSample> sample_pid(pid_t pid, std::string* error);

// Reads a whole small file (bounded); nullopt on error.
std::optional<std::string> read_file(const std::string& path, size_t max_bytes = 65536);

}  // namespace procfs
