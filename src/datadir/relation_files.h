// The on-disk size of a relation, read from its files in the data directory
// (the worker's working directory) the way pg_relation_size() adds them up:
// every fork (main, _fsm, _vm, _init) and every 1 GB segment (.1, .2, ...).
// Reading the files directly needs neither a lock on the relation nor a
// relcache entry for it: sizes of 20,000 tables cost no backend memory and
// never wait behind an ACCESS EXCLUSIVE lock. No PostgreSQL header here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datadir/directory_sizes.h"

namespace datadir {

// Bytes in all forks and segments of the relation whose main fork is at
// `path` (e.g. "base/5/16384"). nullopt when the main fork does not exist (the
// relation was dropped or rewritten since the catalog was read) or `path` is
// not a plain relative relation path.
//
// Reads each folder once (through DirectorySizes, shared with other
// collectors of the scrape when one is given) and keeps an index of its
// relation files: a relation has five or more possible files (forks,
// segments) and most do not exist.
class RelationFiles {
 public:
  explicit RelationFiles(DirectorySizes* shared = nullptr) : sizes_(shared != nullptr ? shared : &own_) {}
  RelationFiles(const RelationFiles&) = delete;
  RelationFiles& operator=(const RelationFiles&) = delete;
  std::optional<uint64_t> bytes(std::string_view path);

  // One file of a relation, from its name: "16384", "16384_fsm", "16384.2".
  struct File {
    uint32_t node = 0;     // relfilenode
    uint8_t fork = 0;      // 0 main, 1 fsm, 2 vm, 3 init
    uint32_t segment = 0;  // 0 for the first file of a fork
    uint64_t size = 0;
    bool operator<(const File& o) const {
      return node != o.node ? node < o.node : fork != o.fork ? fork < o.fork : segment < o.segment;
    }
  };
  static std::optional<File> parse_name(std::string_view name);

 private:
  void index_dir(std::string_view dir);
  DirectorySizes own_;
  DirectorySizes* sizes_;
  std::string dir_;
  bool indexed_ = false;
  bool readable_ = false;
  std::vector<File> files_;  // the folder's relation files, sorted
};

// Whether `path` looks like a relation file path PostgreSQL would produce
// (base/, global/ or pg_tblspc/ followed by digits, slashes, PG_ version
// directory names): no "..", no absolute paths, nothing else.
bool plausible_relation_path(std::string_view path);

}  // namespace datadir
