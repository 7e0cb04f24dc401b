// The entries of data directory folders with their sizes, listed and stat'ed
// once per scrape and shared by the collectors that need them: at 20,000
// tables a database folder has 40,000 files, and both the relation sizes and
// the database size are sums over them. No PostgreSQL header here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace datadir {

class DirectorySizes {
 public:
  struct Entry {
    std::string name;
    uint64_t size = 0;
    bool regular = false;  // a regular file (after following symlinks, as stat())
  };
  // The entries of `dir` (relative to the working directory, the data
  // directory in a backend), without "." and ".."; entries that vanish while
  // listed are left out. nullptr when the folder cannot be read.
  const std::vector<Entry>* entries(const std::string& dir);
  // The sum of the sizes of all entries, as pg_database_size() adds up a
  // database folder; nullopt when it cannot be read.
  std::optional<uint64_t> total_bytes(const std::string& dir);

 private:
  std::map<std::string, std::optional<std::vector<Entry>>> dirs_;
};

}  // namespace datadir
