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

// tables.cpp: pg_stat_user_tables + pg_statio_user_tables in one pass.
std::string tables_sql(int server_version);
// relation_sizes.cpp: table and index sizes, skipping locked relations.
std::string relation_sizes_sql(int server_version);

}  // namespace collectors
