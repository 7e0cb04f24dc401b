#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "datadir/relation_files.h"
#include "unit.h"

namespace {
uint64_t dir_entry_size(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

void write_bytes(const std::string& path, size_t n) {
  std::ofstream f(path, std::ios::binary);
  f << std::string(n, 'x');
}

// A temporary data directory with an empty base/5, made the working
// directory (relation paths are relative to it) until the end of the test.
// The test removes the files it wrote.
struct DataDir {
  char path[32] = "/tmp/pgx-datadir-XXXXXX";
  char old_cwd[4096] = "";
  bool ok = false;
  DataDir() {
    ok = mkdtemp(path) != nullptr && getcwd(old_cwd, sizeof old_cwd) != nullptr && chdir(path) == 0;
    CHECK(ok);
    mkdir("base", 0700);
    mkdir("base/5", 0700);
  }
  ~DataDir() {
    rmdir("base/5");
    rmdir("base");
    if (ok) CHECK(chdir(old_cwd) == 0);
    rmdir(path);
  }
};
}  // namespace

TEST(relation_paths_are_checked) {
  CHECK(datadir::plausible_relation_path("base/5/16384"));
  CHECK(datadir::plausible_relation_path("global/1262"));
  CHECK(datadir::plausible_relation_path("pg_tblspc/16390/PG_15_202209061/5/16391"));
  CHECK(!datadir::plausible_relation_path("/etc/passwd"));
  CHECK(!datadir::plausible_relation_path("base/../../etc/passwd"));
  CHECK(!datadir::plausible_relation_path("base/5/"));
  CHECK(!datadir::plausible_relation_path("pg_wal/000000010000000000000001"));
  CHECK(!datadir::plausible_relation_path(""));
  CHECK(!datadir::RelationFiles().bytes("/etc/passwd").has_value());
}

// Forks and segments add up like pg_relation_size()'s sum over forks; a
// missing main fork means no size (a dropped or rewritten relation).
TEST(relation_files_add_forks_and_segments) {
  DataDir data;
  if (!data.ok) return;
  write_bytes("base/5/100", 8192);
  write_bytes("base/5/100.1", 4096);
  write_bytes("base/5/100.3", 9999);  // after a gap: not a segment of this relation
  write_bytes("base/5/100_fsm", 24576);
  write_bytes("base/5/100_vm", 8192);
  write_bytes("base/5/100_init", 0);
  write_bytes("base/5/200", 0);
  mkdir("base/5/300", 0700);  // not a regular file
  auto a = datadir::RelationFiles().bytes("base/5/100");
  CHECK(a.has_value());
  if (a) CHECK_EQ(*a, uint64_t{8192 + 4096 + 24576 + 8192});
  auto b = datadir::RelationFiles().bytes("base/5/200");
  CHECK(b.has_value());
  if (b) CHECK_EQ(*b, uint64_t{0});
  CHECK(!datadir::RelationFiles().bytes("base/5/999").has_value());
  CHECK(!datadir::RelationFiles().bytes("base/5/300").has_value());
  // One RelationFiles across directories (it keeps the last one open).
  mkdir("global", 0700);
  write_bytes("global/7", 100);
  datadir::RelationFiles files;
  CHECK_EQ(files.bytes("base/5/100").value_or(0), uint64_t{8192 + 4096 + 24576 + 8192});
  CHECK_EQ(files.bytes("global/7").value_or(0), uint64_t{100});
  CHECK(!files.bytes("base/6/1").has_value());  // no such directory
  CHECK_EQ(files.bytes("base/5/200").value_or(1), uint64_t{0});
  CHECK(!files.bytes("base/5/999").has_value());
  CHECK(!files.bytes("base/../global/7").has_value());
  std::remove("global/7");
  rmdir("global");
  // Sizes are those of the listing, one per folder and scrape, shared by the
  // RelationFiles given the same DirectorySizes; a new scrape sees changes.
  datadir::DirectorySizes scrape;
  datadir::RelationFiles cached(&scrape);
  CHECK_EQ(cached.bytes("base/5/100").value_or(0), uint64_t{8192 + 4096 + 24576 + 8192});
  std::remove("base/5/100_fsm");
  std::remove("base/5/200");
  datadir::RelationFiles same_scrape(&scrape);
  CHECK_EQ(same_scrape.bytes("base/5/100").value_or(0), uint64_t{8192 + 4096 + 24576 + 8192});
  CHECK(same_scrape.bytes("base/5/200").has_value());
  datadir::RelationFiles next_scrape;
  CHECK_EQ(next_scrape.bytes("base/5/100").value_or(0), uint64_t{8192 + 4096 + 8192});
  CHECK(!next_scrape.bytes("base/5/200").has_value());
  // The folder's total, as pg_database_size() adds it up: every entry.
  datadir::DirectorySizes fresh;
  // (100, 100.1, 100.3, 100_vm, 100_init and the folder 300 are left.)
  CHECK_EQ(fresh.total_bytes("base/5").value_or(0),
           uint64_t{8192 + 4096 + 9999 + 8192 + 0} + dir_entry_size("base/5/300"));
  CHECK(!fresh.total_bytes("base/nope").has_value());
  for (const char* f : {"base/5/100", "base/5/100.1", "base/5/100.3", "base/5/100_fsm", "base/5/100_vm",
                        "base/5/100_init", "base/5/200"}) {
    std::remove(f);
  }
  rmdir("base/5/300");
}

// Which directory entries are relation files, and which file of which fork.
TEST(relation_file_names_parsed) {
  using datadir::RelationFiles;
  auto f = RelationFiles::parse_name("16384");
  CHECK(f && f->node == 16384 && f->fork == 0 && f->segment == 0);
  f = RelationFiles::parse_name("16384_fsm.2");
  CHECK(f && f->node == 16384 && f->fork == 1 && f->segment == 2);
  f = RelationFiles::parse_name("7_vm");
  CHECK(f && f->node == 7 && f->fork == 2);
  f = RelationFiles::parse_name("4294967295_init");
  CHECK(f && f->node == 4294967295u && f->fork == 3);
  for (const char* bad :
       {"pg_internal.init", "PG_VERSION", "pg_filenode.map", "t3_16384", "16384.0", "16384.", "16384_foo",
        "4294967296", "", "_fsm", "16384_fsm_vm", "16384.1.2", "-1", "1a"}) {
    CHECK(!RelationFiles::parse_name(bad).has_value());
  }
}

// A kept listing that misses many relations (created in bulk since it was
// taken) is taken again once, instead of a stat() per relation; a listing
// taken that way is not taken again before it expires.
TEST(relation_files_relist_after_many_misses) {
  DataDir data;
  if (!data.ok) return;
  const std::string base = "base/5";
  write_bytes(base + "/1", 10);
  datadir::DirectorySizes kept;
  CHECK(kept.listing(base) != nullptr);
  const uint64_t n = datadir::RelationFiles::kRelistAfter;
  for (uint32_t k = 0; k < 2 * n; k++) write_bytes(base + "/" + std::to_string(1000 + k), 100 + k);
  datadir::RelationFiles scrape(&kept);
  for (uint32_t k = 0; k < 2 * n; k++) CHECK_EQ(scrape.bytes(base, 1000 + k).value_or(0), uint64_t{100 + k});
  CHECK_EQ(scrape.misses(), n - 1);  // the n-th and the rest found in the new listing
  CHECK(kept.listing(base)->relisted);
  CHECK_EQ(kept.listing(base)->files.size(), size_t{2 * n + 1});
  // More created: stat'ed one by one, the relisted listing is kept.
  for (uint32_t k = 0; k < 2 * n; k++) write_bytes(base + "/" + std::to_string(5000 + k), 7);
  datadir::RelationFiles next(&kept);
  for (uint32_t k = 0; k < 2 * n; k++) CHECK_EQ(next.bytes(base, 5000 + k).value_or(0), uint64_t{7});
  CHECK_EQ(next.misses(), 2 * n);
  CHECK_EQ(kept.listing(base)->files.size(), size_t{2 * n + 1});
  // Expired, it is listed afresh (and may be relisted again).
  kept.expire(std::chrono::seconds(0));
  CHECK(!kept.listing(base)->relisted);
  std::remove((base + "/1").c_str());
  for (uint32_t k = 0; k < 2 * n; k++) {
    std::remove((base + "/" + std::to_string(1000 + k)).c_str());
    std::remove((base + "/" + std::to_string(5000 + k)).c_str());
  }
}
