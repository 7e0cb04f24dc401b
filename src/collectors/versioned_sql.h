// SQL that depends on the server version, built by pure functions so that the
// unit tests check every supported version's choice (only one server version
// runs in CI). Each collector with version-dependent SQL declares its builder
// here; the definition lives in the collector's own file.
#pragma once

#include <string>
#include <vector>

namespace collectors {

// The versions the exporter answers for: 13 to 18.
constexpr int kOldestSupportedVersion = 130000;
constexpr int kNewestKnownVersion = 189999;

// vacuum.cpp: pg_stat_progress_vacuum, whose columns changed in 17 and 18.
std::string vacuum_progress_sql(int server_version);
// locks.cpp: the lock types of each version; pg_locks.waitstart from 14.
std::string lock_types_sql(int server_version);
std::string lock_waits_sql(int server_version);

}  // namespace collectors
