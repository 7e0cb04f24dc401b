// spool::File and a metrics::Sink that spools: the exposition read back from
// the file must be byte-equal to the one kept in memory, also when the file
// stops taking writes half-way.
#include <dirent.h>
#include <sys/resource.h>

#include <csignal>
#include <string>

#include "metrics/render.h"
#include "metrics/sink.h"
#include "spool/file.h"
#include "unit.h"

namespace {

std::string test_dir() { return std::string(unit::temp_dir()); }

// Several collectors' worth of families: per-table rows into many families,
// merged from per-collector sinks the way a scrape merges them.
void fill(metrics::Sink& out, int tables) {
  for (int part = 0; part < 3; part++) {
    metrics::Sink local(out.spool());
    metrics::Family seq = local.counter("pg_stat_user_tables_seq_scan", "Sequential scans.");
    metrics::Family live = local.gauge("pg_stat_user_tables_n_live_tup", "Live rows.");
    metrics::Family small = local.gauge("pg_small_" + std::to_string(part), "A family that stays small.");
    for (int i = 0; i < tables; i++) {
      metrics::LabelSet l(
          {{"datname", "db"}, {"schemaname", "public"}, {"relname", "t" + std::to_string(i)}});
      seq.add(l, i * 3 + part);
      live.add(l, 1e15 + i);
    }
    small.add(part);
    local.histogram("pg_h_seconds", "h")
        .add_histogram({{"part", std::to_string(part)}}, {{1, 1}, {2, 3}}, 4, 5.5);
    out.absorb(std::move(local));
  }
  out.gauge("pg_last", "written last, directly").add(42);
}

// `spooled` was filled with fill(3000) while its file stopped taking writes
// past 150 kB: the file says why, and the exposition is the memory one.
void check_rest_kept_in_memory(const spool::File& file, metrics::Sink& spooled, const char* reason) {
  CHECK(file.failed());
  CHECK(file.error().find(reason) != std::string::npos);
  CHECK(file.size() > 0 && file.size() <= 150 * 1024);
  metrics::Sink memory;
  fill(memory, 3000);
  CHECK(metrics::render(spooled) == metrics::render(memory));
}

}  // namespace

TEST(spool_file_is_anonymous_and_reads_back) {
  std::string why;
  int closed = 0;
  std::shared_ptr<spool::File> f = spool::File::create(
      test_dir(), &why, [&] { closed++; }, 0);
  CHECK(f != nullptr);
  if (!f) return;
  CHECK_EQ(f->append("hello "), 0);
  CHECK_EQ(f->append("world"), 6);
  CHECK_EQ(f->size(), 11u);
  std::string back;
  CHECK(f->read(3, 5, &back));
  CHECK_EQ(back, std::string("lo wo"));
  CHECK(!f->read(8, 10, &back));  // past the end
  // Nothing of ours is visible in the folder.
  DIR* d = opendir(test_dir().c_str());
  CHECK(d != nullptr);
  int entries = 0;
  while (dirent* e = d ? readdir(d) : nullptr) {
    if (std::string(e->d_name).find("pg_exporter") != std::string::npos) entries++;
  }
  if (d) closedir(d);
  CHECK_EQ(entries, 0);
  f.reset();
  CHECK_EQ(closed, 1);
}

TEST(spool_file_in_an_unusable_folder_is_refused_with_a_reason) {
  std::string why;
  int closed = 0;
  auto f = spool::File::create("/proc/self/no/such/folder", &why, [&] { closed++; });
  CHECK(f == nullptr);
  CHECK(why.find("/proc/self/no/such/folder") != std::string::npos);
  CHECK_EQ(closed, 1);  // the caller's descriptor is given back
}

TEST(spooled_sink_renders_byte_equal_to_memory_sink) {
  for (int tables : {0, 10, 3000}) {
    metrics::Sink memory;
    fill(memory, tables);
    std::string why;
    auto file = spool::File::create(test_dir(), &why, {}, 0);
    CHECK(file != nullptr);
    if (!file) return;
    metrics::Sink spooled(file);
    fill(spooled, tables);
    CHECK_EQ(spooled.sample_count(), memory.sample_count());
    CHECK_EQ(spooled.byte_count(), memory.byte_count());
    // 3,000 rows of ~90 bytes make families of ~270 kB: those are spooled.
    if (tables == 3000) {
      CHECK(file->size() > 3 * metrics::Sink::kSpoolBlock);
    } else {
      CHECK_EQ(file->size(), 0u);
    }
    const std::string want = metrics::render(memory);
    CHECK(metrics::render(spooled) == want);
    CHECK(
        want.find(
            "pg_stat_user_tables_seq_scan{datname=\"db\",schemaname=\"public\",relname=\"t2999\"} 8999\n") !=
            std::string::npos ||
        tables != 3000);
  }
}

TEST(spooled_sink_keeps_the_rest_in_memory_when_the_file_is_full) {
  // The file system refuses writes beyond 150 kB (RLIMIT_FSIZE: EFBIG), as a
  // full disk would: what could not be written stays in memory.
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  rlimit small = old;
  small.rlim_cur = 150 * 1024;
  CHECK_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string why;
  auto file = spool::File::create(test_dir(), &why, {}, 0);
  CHECK(file != nullptr);
  metrics::Sink spooled(file);
  if (file) fill(spooled, 3000);
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, SIG_DFL);
  if (file) check_rest_kept_in_memory(*file, spooled, "could not write");
}

TEST(spool_file_needs_free_space_and_stays_under_its_limit) {
  // Keeping more free than any disk has: refused, with the numbers.
  std::string why;
  int closed = 0;
  auto none = spool::File::create(
      test_dir(), &why, [&] { closed++; }, uint64_t{1} << 62);
  CHECK(none == nullptr);
  CHECK(why.find("MB free on the file system") != std::string::npos);
  CHECK_EQ(closed, 1);
  // A file limited to 150 kB: appends past it fail, the sink keeps the rest
  // in memory, and the exposition is the same.
  auto file = spool::File::create(test_dir(), &why, {}, 0, 150 * 1024);
  CHECK(file != nullptr);
  if (!file) return;
  metrics::Sink spooled(file);
  fill(spooled, 3000);
  check_rest_kept_in_memory(*file, spooled, "reached its limit");
}
