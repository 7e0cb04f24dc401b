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

// wal.cpp: pg_stat_wal (14+; write/sync columns on 14..17 only); "" before 14.
std::string wal_stat_sql(int server_version);

// bgwriter.cpp: pg_stat_bgwriter, and pg_stat_checkpointer from 17 ("" before).
struct BgwriterSql {
  std::string bgwriter;
  std::string checkpointer;
};
BgwriterSql bgwriter_sql(int server_version);

// wal_receiver.cpp: pg_stat_wal_receiver (received_lsn on 13, flushed_lsn 14+).
std::string wal_receiver_sql(int server_version);

// io.cpp: pg_stat_io (16+; op_bytes on 16/17, *_bytes on 18+); "" before 16.
std::string io_sql(int server_version);
// tables.cpp: pg_stat_user_tables + pg_statio_user_tables in one pass.
std::string tables_sql(int server_version);
// relation_sizes.cpp: table and index sizes, skipping locked relations.
std::string relation_sizes_sql(int server_version);
// vacuum.cpp: pg_stat_progress_vacuum, whose columns changed in 17 and 18.
std::string vacuum_progress_sql(int server_version);
// locks.cpp: the lock types of each version; pg_locks.waitstart from 14.
std::string lock_types_sql(int server_version);
std::string lock_waits_sql(int server_version);

}  // namespace collectors
