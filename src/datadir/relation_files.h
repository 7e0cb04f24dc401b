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
#include <unordered_set>

namespace datadir {

// Bytes in all forks and segments of the relation whose main fork is at
// `path` (e.g. "base/5/16384"). nullopt when the main fork does not exist (the
// relation was dropped or rewritten since the catalog was read) or `path` is
// not a plain relative relation path.
//
// Keeps the last directory open and its listing: a relation has five or more
// possible files (forks, segments) and most do not exist. One readdir pass
// tells which do, and fstatat() from the directory resolves one name instead
// of walking the whole path (at 40,000 relations, failed path lookups were
// most of this collector's time).
class RelationFiles {
 public:
  RelationFiles() = default;
  RelationFiles(const RelationFiles&) = delete;
  RelationFiles& operator=(const RelationFiles&) = delete;
  ~RelationFiles();
  std::optional<uint64_t> bytes(std::string_view path);

 private:
  std::optional<uint64_t> file_bytes(const std::string& name) const;
  uint64_t fork_bytes(const std::string& first, bool* exists) const;
  void open_dir(std::string_view dir);
  std::string dir_;
  int dirfd_ = -1;
  std::unordered_set<std::string> names_;  // the directory's entries when opened
};

// The same with a directory opened for this one call.
std::optional<uint64_t> relation_files_bytes(std::string_view path);

// Whether `path` looks like a relation file path PostgreSQL would produce
// (base/, global/ or pg_tblspc/ followed by digits, slashes, PG_ version
// directory names): no "..", no absolute paths, nothing else.
bool plausible_relation_path(std::string_view path);

}  // namespace datadir
