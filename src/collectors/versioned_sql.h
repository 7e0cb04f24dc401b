// SQL that depends on the server version, built by pure functions so that the
// unit tests check every supported version's choice (only one server version
// runs in CI). Each collector with version-dependent SQL declares its builder
// here; the definition lives in the collector's own file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace collectors {

// The versions the exporter answers for: 13 to 19.
constexpr int kOldestSupportedVersion = 130000;
constexpr int kNewestKnownVersion = 199999;

// database.cpp: pg_stat_database (session columns from 14, parallel worker
// counts from 18).
std::string database_stat_sql(int server_version);
// wal.cpp: pg_stat_wal (14+; write/sync columns on 14..17 only, wal_fpi_bytes from 19); "" before 14.
std::string wal_stat_sql(int server_version);

// bgwriter.cpp: pg_stat_bgwriter, and pg_stat_checkpointer from 17 ("" before).
struct BgwriterSql {
  std::string bgwriter;
  std::string checkpointer;
};
BgwriterSql bgwriter_sql(int server_version);

// wal_receiver.cpp: pg_stat_wal_receiver (the same columns on every supported version).
std::string wal_receiver_sql(int server_version);

// io.cpp: pg_stat_io (16+; op_bytes on 16/17, *_bytes on 18+); "" before 16.
std::string io_sql(int server_version);
// relation_catalog.cpp: the relations of the per-table collectors, their
// files; with `only`, just the relations of these oids.
std::string relation_catalog_sql(int server_version, const std::vector<uint32_t>* only = nullptr);
// vacuum.cpp: pg_stat_progress_vacuum, whose columns changed in 17 and 18.
std::string vacuum_progress_sql(int server_version);
// connections.cpp: the wait event types of each version, exported even when
// no session waits on them.
std::vector<const char*> wait_event_types(int server_version);
// locks.cpp: the lock types of each version; pg_locks grouped once, with
// the longest wait from 14 (pg_locks.waitstart).
std::vector<std::string> lock_types(int server_version);
std::string locks_sql(int server_version);
// pg_stat_lock (19+); "" before.
std::string lock_stats_sql(int server_version);
// An extension version ("1.10") as major * 100 + minor (110); -1 if unparsable.
int parse_extension_version(std::string_view text);

// statements: pg_stat_statements' columns depend on the installed extension
// version (1.8 in PostgreSQL 13, 1.9 in 14, 1.10 in 15 and 16, 1.11 in 17,
// 1.12 in 18, 1.13 in 19), `schema` is the extension's schema, already quoted. "" when the
// version is too old (before 1.2).
std::string statements_sql(int extension_version, const std::string& schema, int limit);
// The first `length` characters of the texts of these queryids (any that is
// not an integer is dropped), one per queryid, top-level entries first (1.9+);
// "" when none is left.
std::string statements_text_sql(int extension_version, const std::string& schema,
                                const std::vector<std::string>& queryids, int length);
// pg_stat_statements_info (1.9+: PostgreSQL 14); "" before.
std::string statements_info_sql(int extension_version, const std::string& schema);

// buffercache: pg_buffercache_summary() from extension 1.4 (PostgreSQL 16:
// 1.4, 17: 1.5, 18: 1.6), the same numbers from the pg_buffercache view before
// (13 to 15 ship 1.3). "" when the version is unparsable.
std::string buffercache_sql(int extension_version, const std::string& schema);

}  // namespace collectors
