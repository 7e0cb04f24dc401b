// The statements collector's SQL for the pg_stat_statements version that each
// supported server release installs by default, plus an old 1.7 left behind
// by pg_upgrade without ALTER EXTENSION UPDATE.
#include <string>

#include "collectors/versioned_sql.h"
#include "unit.h"

namespace {

bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// The default pg_stat_statements version of each server release.
int default_extension_version(int server_version) {
  switch (server_version / 10000) {
    case 13:
      return 108;
    case 14:
      return 109;
    case 15:
    case 16:
      return 110;
    case 17:
      return 111;
    case 18:
      return 112;
    default:
      return 113;
  }
}

}  // namespace

TEST(statements_extension_version_parsed) {
  CHECK_EQ(collectors::parse_extension_version("1.8"), 108);
  CHECK_EQ(collectors::parse_extension_version("1.10"), 110);
  CHECK_EQ(collectors::parse_extension_version("1.12"), 112);
  CHECK_EQ(collectors::parse_extension_version("2.0"), 200);
  CHECK_EQ(collectors::parse_extension_version("1.11beta"), 111);
  CHECK_EQ(collectors::parse_extension_version(""), -1);
  CHECK_EQ(collectors::parse_extension_version("1"), -1);
  CHECK_EQ(collectors::parse_extension_version("1."), -1);
  CHECK_EQ(collectors::parse_extension_version(".1"), -1);
  CHECK_EQ(collectors::parse_extension_version("x1.2"), -1);
  CHECK_EQ(collectors::parse_extension_version("99999999999.1"), -1);
}

TEST(statements_sql_every_server_version) {
  for (int server : {130000, 140000, 150000, 160000, 170000, 180000, 190000}) {
    const int ext = default_extension_version(server);
    const std::string sql = collectors::statements_sql(ext, "\"my schema\"", 100);
    CHECK(!sql.empty());
    // Never the query text; the texts are not even loaded.
    CHECK(has(sql, "FROM \"my schema\".pg_stat_statements(false) s"));
    CHECK(!has(sql, "s.query,"));
    CHECK(!has(sql, "s.query "));
    // Labels, one row per label set, top N by execution time.
    CHECK(has(sql, "AS \"user\""));
    CHECK(has(sql, "d.datname"));
    CHECK(has(sql, "s.queryid::text AS queryid"));
    CHECK(has(sql, "GROUP BY s.userid, d.datname, s.queryid"));
    CHECK(has(sql, "WHERE s.queryid IS NOT NULL"));
    CHECK(has(sql, "ORDER BY sum(s.total_exec_time) DESC, s.queryid LIMIT 100"));
    // Renamed in 1.8: total_time -> total_exec_time, plan time added.
    CHECK(!has(sql, "s.total_time"));
    CHECK(!has(sql, "s.mean_time"));
    CHECK(has(sql, "s.total_plan_time"));
    CHECK(has(sql, "AS wal_bytes"));
    // Renamed in 1.11 (PostgreSQL 17): blk_read_time -> shared_blk_read_time.
    if (server >= 170000) {
      CHECK(has(sql, "sum(s.shared_blk_read_time) / 1000 AS block_read_seconds"));
      CHECK(has(sql, "sum(s.shared_blk_write_time) / 1000 AS block_write_seconds"));
      CHECK(has(sql, "s.local_blk_read_time"));
      CHECK(has(sql, "s.jit_deform_time"));
      CHECK(!has(sql, "s.blk_read_time"));
    } else {
      CHECK(has(sql, "sum(s.blk_read_time) / 1000 AS block_read_seconds"));
      CHECK(has(sql, "sum(s.blk_write_time) / 1000 AS block_write_seconds"));
      CHECK(!has(sql, "shared_blk_read_time"));
      CHECK(!has(sql, "local_blk_read_time"));
      CHECK(!has(sql, "jit_deform"));
    }
    // WAL buffers full and parallel workers from 1.12 (PostgreSQL 18).
    CHECK_EQ(has(sql, "sum(s.wal_buffers_full) AS wal_buffers_full"), server >= 180000);
    CHECK_EQ(has(sql, "s.parallel_workers_launched"), server >= 180000);
    // Generic and custom plan counts from 1.13 (PostgreSQL 19).
    CHECK_EQ(has(sql, "sum(s.generic_plan_calls) AS generic_plan_calls"), server >= 190000);
    CHECK_EQ(has(sql, "sum(s.custom_plan_calls) AS custom_plan_calls"), server >= 190000);
    // JIT and temp block times from 1.10 (PostgreSQL 15).
    CHECK_EQ(has(sql, "s.jit_functions"), server >= 150000);
    CHECK_EQ(has(sql, "s.temp_blk_read_time"), server >= 150000);
    // pg_stat_statements_info from 1.9 (PostgreSQL 14).
    const std::string info = collectors::statements_info_sql(ext, "\"my schema\"");
    CHECK_EQ(info.empty(), server < 140000);
    if (server >= 140000)
      CHECK_EQ(info, std::string("SELECT dealloc FROM \"my schema\".pg_stat_statements_info"));
  }
}

TEST(statements_sql_old_extension_and_limits) {
  // 1.7 on a PostgreSQL 13 server: the pre-rename columns.
  const std::string old = collectors::statements_sql(107, "public", 5);
  CHECK(has(old, "sum(s.total_time) / 1000 AS seconds"));
  CHECK(has(old, "max(s.max_time) / 1000"));
  CHECK(has(old, "s.blk_read_time"));
  CHECK(!has(old, "exec_time"));
  CHECK(!has(old, "plan_time"));
  CHECK(!has(old, "wal_"));
  CHECK(has(old, "ORDER BY sum(s.total_time) DESC, s.queryid LIMIT 5"));
  // Too old, or no schema: nothing to run.
  CHECK(collectors::statements_sql(101, "public", 5).empty());
  CHECK(collectors::statements_sql(-1, "public", 5).empty());
  CHECK(collectors::statements_sql(110, "", 5).empty());
  // The limit is never below 1 (LIMIT 0 would silently export nothing).
  CHECK(has(collectors::statements_sql(110, "public", 0), "LIMIT 1"));
}

TEST(statements_text_sql_only_integers) {
  const std::string sql =
      collectors::statements_text_sql(110, "\"s\"", {"123", "-45", "1; DROP TABLE x", "", "-", "12a"}, 120);
  CHECK(has(sql, "ANY('{123,-45}'::bigint[])"));
  CHECK(has(sql, "left(s.query, 120) AS query"));
  CHECK(has(sql, "FROM \"s\".pg_stat_statements(true) s"));
  CHECK(has(sql, "ORDER BY s.queryid, s.toplevel DESC, s.calls DESC, s.query"));
  CHECK(!has(sql, "DROP"));
  // No toplevel column before 1.9 (PostgreSQL 13).
  CHECK(
      has(collectors::statements_text_sql(108, "s", {"1"}, 10), "ORDER BY s.queryid, s.calls DESC, s.query"));
  CHECK(collectors::statements_text_sql(110, "s", {"x"}, 120).empty());
  CHECK(collectors::statements_text_sql(110, "s", {"1"}, 0).empty());
  CHECK(collectors::statements_text_sql(110, "s", {"123456789012345678901"}, 10).empty());  // not an int8
}
