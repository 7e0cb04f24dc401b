// The relation files of data directory folders with their sizes, listed and
// stat'ed once and shared by the collectors that need them: at 20,000 tables
// a database folder has over 100,000 files, and both the relation sizes and
// the database size are sums over them. The worker keeps a listing across
// scrapes for pg_exporter.size_ttl (sizes change slowly; stat'ing every file
// was the largest part of a scrape); expire() drops what is older. No
// PostgreSQL header here.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace datadir {

// One file of a relation, from its name: "16384", "16384_fsm", "16384.2".
struct RelationFile {
  uint32_t node = 0;     // relfilenode
  uint8_t fork = 0;      // 0 main, 1 fsm, 2 vm, 3 init
  uint32_t segment = 0;  // 0 for the first file of a fork
  uint64_t size = 0;
  bool operator<(const RelationFile& o) const {
    return node != o.node ? node < o.node : fork != o.fork ? fork < o.fork : segment < o.segment;
  }
  static std::optional<RelationFile> parse_name(std::string_view name);
};

class DirectorySizes {
 public:
  using Clock = std::chrono::steady_clock;
  struct Listing {
    uint64_t total = 0;               // every entry, as pg_database_size() adds up a folder
    std::vector<RelationFile> files;  // the regular files named like relation files, sorted
    Clock::time_point taken;
    bool relisted = false;  // taken by relist(): not taken again before it expires
  };
  // The listing of `dir` (relative to the working directory, the data
  // directory in a backend); entries that vanish while listed are left out.
  // nullptr when the folder cannot be read.
  const Listing* listing(const std::string& dir);
  // Lists `dir` again now, unless its listing was itself taken this way (so
  // at most one extra listing per folder and size_ttl): for a scrape that
  // finds many relations missing from a kept listing (created in bulk since),
  // one listing is cheaper than a stat() of each relation's files.
  const Listing* relist(const std::string& dir);
  // The sum of the sizes of all entries; nullopt when it cannot be read.
  std::optional<uint64_t> total_bytes(const std::string& dir);
  // Drops the listings taken more than `max_age` ago (all of them with 0).
  void expire(Clock::duration max_age, Clock::time_point now = Clock::now());
  // Seconds from the oldest listing kept to `now` (0: none, or all taken since).
  double oldest_age_seconds(Clock::time_point now = Clock::now()) const;

 private:
  std::map<std::string, std::optional<Listing>> dirs_;
};

}  // namespace datadir
