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

namespace datadir {

// Bytes in all forks and segments of the relation whose main fork is at
// `path` (e.g. "base/5/16384"). nullopt when the main fork does not exist (the
// relation was dropped or rewritten since the catalog was read) or `path` is
// not a plain relative relation path.
std::optional<uint64_t> relation_files_bytes(std::string_view path);

// Whether `path` looks like a relation file path PostgreSQL would produce
// (base/, global/ or pg_tblspc/ followed by digits, slashes, PG_ version
// directory names): no "..", no absolute paths, nothing else.
bool plausible_relation_path(std::string_view path);

}  // namespace datadir
