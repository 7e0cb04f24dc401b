#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cmath>

#include "procfs/process_stat.h"
#include "unit.h"

namespace {
const char* kStat =
    "1234 (postgres: pg_exporter) S 1000 1234 1234 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 1 0 98765 "
    "230000000 4096 18446744073709551615 1 1 0 0 0 0 4194304 19935232 536888839 0 0 0 17 1 0 0 0 0 0";

double burn_cpu(double seconds) {
  struct timespec a, b;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
  volatile double x = 0;
  do {
    for (int i = 0; i < 100000; i++) x += std::sqrt(static_cast<double>(i));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
  } while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < seconds);
  return x;
}
}  // namespace

TEST(parse_stat_normal) {
  auto s = procfs::parse_stat(kStat);
  CHECK(s.has_value());
  CHECK_EQ(s->state, 'S');
  CHECK_EQ(s->ppid, 1000);
  CHECK_EQ(s->utime_ticks, 250ull);
  CHECK_EQ(s->stime_ticks, 130ull);
  CHECK_EQ(s->num_threads, 1);
  CHECK_EQ(s->start_ticks, 98765ull);
  CHECK_EQ(s->vsize_bytes, 230000000ull);
  CHECK_EQ(s->rss_pages, 4096);
}

TEST(parse_stat_comm_with_parens_and_spaces) {
  std::string text = kStat;
  text.replace(text.find("(postgres: pg_exporter)"), 23, "(a) b) c)");
  auto s = procfs::parse_stat(text);
  CHECK(s.has_value());
  CHECK_EQ(s->utime_ticks, 250ull);
}

TEST(parse_stat_rejects_bad_input) {
  CHECK(!procfs::parse_stat(""));
  CHECK(!procfs::parse_stat("1234 (x) S 1"));
  CHECK(!procfs::parse_stat(std::string(kStat).substr(0, 60)));
  std::string bad = kStat;
  bad.replace(bad.find(" 250 "), 5, " 2x0 ");
  CHECK(!procfs::parse_stat(bad));
  CHECK(!procfs::parse_stat("no parens at all 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22"));
  std::string junk(5000, ')');
  CHECK(!procfs::parse_stat(junk));
}

TEST(parse_boot_time) {
  CHECK_EQ(procfs::parse_boot_time("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n").value_or(0), 1700000000.0);
  CHECK(!procfs::parse_boot_time("cpu 1\n"));
  CHECK(!procfs::parse_boot_time("btime abc\n"));
  CHECK(!procfs::parse_boot_time(""));
}

TEST(parse_max_open_files) {
  const char* limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max open files            1024                 524288               files     \n";
  CHECK_EQ(procfs::parse_max_open_files(limits).value_or(0), 1024.0);
  CHECK(std::isinf(procfs::parse_max_open_files("Max open files unlimited unlimited files\n").value_or(0)));
  CHECK(!procfs::parse_max_open_files("nothing here"));
}

TEST(sample_self_is_sane) {
  std::string err;
  auto a = procfs::sample_self(&err);
  CHECK(a.has_value());
  if (!a) return;
  CHECK(a->threads >= 1);
  CHECK(a->resident_bytes > 0);
  CHECK(a->virtual_bytes >= a->resident_bytes);
  CHECK(a->cpu_cores >= 1);
  CHECK(a->max_fds >= a->open_fds);
  double now = static_cast<double>(time(nullptr));
  CHECK(a->start_time_seconds <= now + 1);
  CHECK(a->start_time_seconds >= now - 600);

  int fd = open("/proc/self/stat", O_RDONLY);
  auto b = procfs::sample_self(&err);
  CHECK_EQ(b->open_fds, a->open_fds + 1);
  close(fd);

  burn_cpu(0.1);
  auto c = procfs::sample_self(&err);
  CHECK(c->cpu_seconds_total > a->cpu_seconds_total);
}

TEST(sample_self_cpu_matches_proc_stat) {
  std::string err;
  auto s = procfs::sample_self(&err);
  auto text = procfs::read_file("/proc/self/stat");
  CHECK(s.has_value() && text.has_value());
  if (!s || !text) return;
  auto f = procfs::parse_stat(*text);
  double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  double by_hand = static_cast<double>(f->utime_ticks + f->stime_ticks) * tick;
  CHECK(std::fabs(by_hand - s->cpu_seconds_total) <= tick);
}

TEST(sample_pid_of_self_and_bad_pid) {
  std::string err;
  auto s = procfs::sample_pid(getpid(), &err);
  CHECK(s.has_value());
  CHECK(!procfs::sample_pid(-5, &err));
  CHECK(!procfs::sample_pid(999999999, &err));
  CHECK(!err.empty());
}
