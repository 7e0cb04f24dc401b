#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "procfs/process_stat.h"
#include "unit.h"

namespace {

// A real line shape (52 fields), comm with a space as postgres sets it.
const std::string kStat =
    "1234 (postgres: pg_exporter) S 1000 1234 1234 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 3 0 98765 "
    "230000000 4096 18446744073709551615 1 1 0 0 0 0 4194304 19935232 536888839 0 0 0 17 1 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0\n";

double burn_cpu(double seconds) {
  struct timespec a, b;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
  volatile double x = 0;
  do {
    for (int i = 0; i < 10000; i++) x = x + std::sqrt(static_cast<double>(i));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
  } while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < seconds);
  return x;
}

// utime + stime of /proc/self/stat, parsed without procfs:: (after the last ')').
double cpu_ticks_by_hand() {
  auto text = procfs::read_file("/proc/self/stat");
  if (!text) return -1;
  size_t p = text->rfind(')');
  if (p == std::string::npos) return -1;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(text->c_str() + p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                  &stime) != 2)
    return -1;
  return static_cast<double>(utime + stime);
}

}  // namespace

TEST(procfs_parse_stat_normal) {
  auto s = procfs::parse_stat(kStat);
  CHECK(s.has_value());
  if (!s) return;
  CHECK_EQ(s->state, 'S');
  CHECK_EQ(s->ppid, 1000);
  CHECK_EQ(s->utime_ticks, 250ull);
  CHECK_EQ(s->stime_ticks, 130ull);
  CHECK_EQ(s->num_threads, 3);
  CHECK_EQ(s->start_ticks, 98765ull);
  CHECK_EQ(s->vsize_bytes, 230000000ull);
  CHECK_EQ(s->rss_pages, 4096);
}

TEST(procfs_parse_stat_comm_with_parens_and_spaces) {
  std::string text = kStat;
  text.replace(text.find("(postgres: pg_exporter)"), 23, "(a) b) c)");
  auto s = procfs::parse_stat(text);
  CHECK(s.has_value());
  if (!s) return;
  CHECK_EQ(s->state, 'S');
  CHECK_EQ(s->ppid, 1000);
  CHECK_EQ(s->utime_ticks, 250ull);
  CHECK_EQ(s->rss_pages, 4096);
  // A comm that looks like the fields themselves.
  text = kStat;
  text.replace(text.find("(postgres: pg_exporter)"), 23,
               "(x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20)");
  s = procfs::parse_stat(text);
  CHECK(s.has_value() && s->state == 'S' && s->start_ticks == 98765ull);
}

TEST(procfs_parse_stat_rejects_truncated) {
  // Every cut before field 25 starts must be rejected (a cut inside rss would
  // otherwise read a smaller number); none may crash.
  size_t field25 = kStat.find(" 18446744073709551615") + 1;
  for (size_t n = 0; n < kStat.size(); n++) {
    auto s = procfs::parse_stat(std::string_view(kStat).substr(0, n));
    if (n <= field25 && s) {
      CHECK(!"accepted a line cut before field 25");
      break;
    }
  }
  CHECK(procfs::parse_stat(std::string_view(kStat).substr(0, field25 + 1)).has_value());
}

TEST(procfs_parse_stat_rejects_garbage) {
  CHECK(!procfs::parse_stat(""));
  CHECK(!procfs::parse_stat("\n"));
  CHECK(!procfs::parse_stat("1234 (x) S 1"));
  CHECK(!procfs::parse_stat("1234 (x)"));
  CHECK(
      !procfs::parse_stat("no parens at all 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24"));
  // ')' before '(' is not a comm.
  CHECK(!procfs::parse_stat(") S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 ("));
  std::string junk(5000, ')');
  CHECK(!procfs::parse_stat("(" + junk));
  // Non-numeric, signed, overflowing and half-numeric values in used fields.
  for (const char* bad : {" 2x0 ", " -250 ", " +250 ", " 0x10 ", " 99999999999999999999999 "}) {
    std::string text = kStat;
    text.replace(text.find(" 250 "), 5, bad);
    CHECK(!procfs::parse_stat(text));
  }
  std::string text = kStat;
  text.replace(text.find(" S "), 3, " SS ");
  CHECK(!procfs::parse_stat(text));
  text = kStat;
  text.replace(text.find(" 98765 "), 7, " 98765.5 ");
  CHECK(!procfs::parse_stat(text));
  // A NUL inside the text is just a bad byte, not an end.
  text = kStat;
  text[text.find(" 4096 ") + 2] = '\0';
  CHECK(!procfs::parse_stat(text));
}

TEST(procfs_parse_boot_time) {
  CHECK_EQ(
      procfs::parse_boot_time("cpu  1 2 3\nintr 1 2\nctxt 5\nbtime 1700000000\nprocesses 5\n").value_or(0),
      1700000000.0);
  CHECK_EQ(procfs::parse_boot_time("btime 1700000001").value_or(0), 1700000001.0);  // no final newline
  CHECK(!procfs::parse_boot_time("cpu 1\n"));
  CHECK(!procfs::parse_boot_time("btime abc\n"));
  CHECK(!procfs::parse_boot_time("btime\n"));
  CHECK(!procfs::parse_boot_time("btime 0\n"));
  CHECK(!procfs::parse_boot_time("btime 17 18\n"));
  CHECK(!procfs::parse_boot_time("xbtime 1700000000\n"));
  CHECK(!procfs::parse_boot_time(""));
  // The real one: after 2000-01-01 and before now.
  auto text = procfs::read_file("/proc/stat", 4 << 20);
  CHECK(text.has_value());
  if (!text) return;
  auto bt = procfs::parse_boot_time(*text);
  CHECK(bt.has_value() && *bt > 946684800.0 && *bt <= static_cast<double>(time(nullptr)));
}

TEST(procfs_parse_max_open_files) {
  const char* limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            1024                 524288               files     \n"
      "Max locked memory         8388608              8388608              bytes     \n";
  CHECK_EQ(procfs::parse_max_open_files(limits).value_or(0), 1024.0);
  CHECK(std::isinf(procfs::parse_max_open_files("Max open files unlimited unlimited files\n").value_or(0)));
  CHECK(!procfs::parse_max_open_files("Max open files\n"));
  CHECK(!procfs::parse_max_open_files("Max open files  many  many files\n"));
  CHECK(!procfs::parse_max_open_files("nothing here"));
  CHECK(!procfs::parse_max_open_files(""));
  // The real file agrees with getrlimit.
  auto text = procfs::read_file("/proc/self/limits");
  struct rlimit rl;
  CHECK(text.has_value() && getrlimit(RLIMIT_NOFILE, &rl) == 0);
  if (!text) return;
  double soft = rl.rlim_cur == RLIM_INFINITY ? HUGE_VAL : static_cast<double>(rl.rlim_cur);
  CHECK_EQ(procfs::parse_max_open_files(*text).value_or(-1), soft);
}

TEST(procfs_read_file_bounded_and_errors) {
  auto part = procfs::read_file("/proc/self/status", 10);
  CHECK(part.has_value() && part->size() == 10);
  errno = 0;
  CHECK(!procfs::read_file("/nonexistent/file"));
  CHECK_EQ(errno, ENOENT);
}

TEST(procfs_sample_self_is_sane) {
  std::string err;
  auto a = procfs::sample_self(&err);
  CHECK(a.has_value());
  if (!a) {
    std::cerr << "sample_self: " << err << "\n";
    return;
  }
  CHECK(a->threads >= 1);
  CHECK(a->resident_bytes > 0);
  CHECK(a->virtual_bytes >= a->resident_bytes);
  CHECK(a->cpu_cores >= 1);
  CHECK(a->cpu_cores <= sysconf(_SC_NPROCESSORS_CONF) || sysconf(_SC_NPROCESSORS_CONF) <= 0);
  CHECK(a->open_fds >= 3);  // stdin, stdout, stderr
  CHECK(a->max_fds >= a->open_fds);
  double now = static_cast<double>(time(nullptr));
  CHECK(a->start_time_seconds <= now + 1);  // btime is whole seconds, rounded down
  CHECK(a->start_time_seconds >= now - 600);

  // One more descriptor is one more open fd (the listing's own is not counted).
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0);
  auto b = procfs::sample_self(&err);
  CHECK(b.has_value());
  if (b) CHECK_EQ(b->open_fds, a->open_fds + 1);
  close(fd);
  auto c = procfs::sample_self(&err);
  if (c) CHECK_EQ(c->open_fds, a->open_fds);

  // The start time is the kernel's: it does not move between samples.
  if (c) CHECK_EQ(c->start_time_seconds, a->start_time_seconds);

  burn_cpu(0.05);
  auto d = procfs::sample_self(&err);
  CHECK(d.has_value());
  if (d) CHECK(d->cpu_seconds_total > a->cpu_seconds_total);
}

TEST(procfs_sample_self_cpu_is_utime_plus_stime) {
  burn_cpu(0.03);  // so that the value is not trivially 0
  const double tck = static_cast<double>(sysconf(_SC_CLK_TCK));
  double before = cpu_ticks_by_hand();
  std::string err;
  auto s = procfs::sample_self(&err);
  double after = cpu_ticks_by_hand();
  CHECK(s.has_value() && before >= 0 && after >= 0);
  if (!s) return;
  CHECK(s->cpu_seconds_total > 0);
  CHECK(s->cpu_seconds_total >= before / tck - 1 / tck);
  CHECK(s->cpu_seconds_total <= after / tck + 1 / tck);
}

TEST(procfs_sample_pid) {
  std::string err;
  auto self = procfs::sample_self(&err);
  auto s = procfs::sample_pid(getpid(), &err);
  CHECK(s.has_value() && self.has_value());
  if (s && self) {
    CHECK_EQ(s->start_time_seconds, self->start_time_seconds);
    CHECK_EQ(s->max_fds, self->max_fds);   // /proc/<pid>/limits vs getrlimit
    CHECK(s->open_fds >= self->open_fds);  // the listing's own fd is counted here
  }
  auto parent = procfs::sample_pid(getppid(), &err);
  if (parent && s) CHECK(parent->start_time_seconds <= s->start_time_seconds);
  err.clear();
  CHECK(!procfs::sample_pid(-5, &err));
  CHECK(!err.empty());
  err.clear();
  CHECK(!procfs::sample_pid(0, &err));
  err.clear();
  CHECK(!procfs::sample_pid(999999999, &err));
  CHECK(!err.empty());
  CHECK(!procfs::sample_pid(999999999, nullptr));  // a null error pointer is allowed
}
