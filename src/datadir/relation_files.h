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
// collectors of the scrape, or kept across scrapes, when one is given) and
// looks relations up in its sorted index of relation files: a relation has
// five or more possible files (forks, segments) and most do not exist. A
// relation whose main fork is not in the listing (created or rewritten
// since the listing was taken) is stat'ed on its own; after kRelistAfter
// such relations the folder is listed again (DirectorySizes::relist).
class RelationFiles {
 public:
  static constexpr uint64_t kRelistAfter = 64;
  explicit RelationFiles(DirectorySizes* shared = nullptr) : sizes_(shared != nullptr ? shared : &own_) {}
  RelationFiles(const RelationFiles&) = delete;
  RelationFiles& operator=(const RelationFiles&) = delete;
  std::optional<uint64_t> bytes(std::string_view path);
  // The same for relfilenode `node` in the folder `dir` (base/<dboid>, say):
  // no path to build and parse for each of 100,000 relations.
  std::optional<uint64_t> bytes(std::string_view dir, uint32_t node);
  // Relations looked up that were not in their folder's listing.
  uint64_t misses() const { return misses_; }

  using File = RelationFile;
  static std::optional<File> parse_name(std::string_view name) { return RelationFile::parse_name(name); }

 private:
  DirectorySizes own_;
  DirectorySizes* sizes_;
  std::string dir_;
  const DirectorySizes::Listing* listing_ = nullptr;
  bool looked_ = false;
  bool relisted_ = false;
  uint64_t misses_ = 0;
};

// Whether `path` looks like a relation file path PostgreSQL would produce
// (base/, global/ or pg_tblspc/ followed by digits, slashes, PG_ version
// directory names): no "..", no absolute paths, nothing else.
bool plausible_relation_path(std::string_view path);

}  // namespace datadir
