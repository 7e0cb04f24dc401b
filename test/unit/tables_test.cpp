// The version-dependent SQL of the tables and relation_sizes collectors, for
// every supported server version (only one of them runs in CI), and the
// autovacuum thresholds the tables collector computes.
#include <string>

#include "collectors/autovacuum_threshold.h"
#include "collectors/relation_filter.h"
#include "collectors/versioned_sql.h"
#include "unit.h"

namespace {

bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

const int kVersions[] = {130000, 140000, 150000, 160000, 170000, 180000, 190000};

}  // namespace

TEST(autovacuum_settings_sql_max_threshold_from_18) {
  for (int v : {130000, 140000, 150000, 160000, 170000}) {
    CHECK(!has(collectors::autovacuum_settings_sql(v), "max_threshold"));
  }
  CHECK(has(collectors::autovacuum_settings_sql(180000),
            "current_setting('autovacuum_vacuum_max_threshold')::float8 AS vacuum_max_threshold"));
}

TEST(reloption_number_reads_one_parameter) {
  const char* opts = "fillfactor=70,autovacuum_vacuum_threshold=100,autovacuum_vacuum_scale_factor=0.05";
  CHECK_EQ(collectors::reloption_number(opts, "autovacuum_vacuum_threshold").value_or(-1), 100.0);
  CHECK_EQ(collectors::reloption_number(opts, "autovacuum_vacuum_scale_factor").value_or(-1), 0.05);
  CHECK_EQ(collectors::reloption_number(opts, "fillfactor").value_or(-1), 70.0);
  // A name that is a prefix of another, or a suffix, is not that one.
  CHECK(!collectors::reloption_number(opts, "autovacuum_vacuum").has_value());
  CHECK(!collectors::reloption_number(opts, "threshold").has_value());
  CHECK(!collectors::reloption_number("", "fillfactor").has_value());
  CHECK(!collectors::reloption_number("vacuum_index_cleanup=auto", "vacuum_index_cleanup").has_value());
}

TEST(autovacuum_thresholds_as_autovacuum_computes_them) {
  collectors::AutovacuumSettings server;  // 50 + 0.2 x, 50 + 0.1 x
  auto t = collectors::autovacuum_thresholds(server, 1000, "");
  CHECK_EQ(t.vacuum, 250.0);
  CHECK_EQ(t.analyze, 150.0);
  // Never analyzed (reltuples -1 since PostgreSQL 14): counts as 0 rows.
  t = collectors::autovacuum_thresholds(server, -1, "");
  CHECK_EQ(t.vacuum, 50.0);
  // Table parameters win over the server's, each on its own.
  t = collectors::autovacuum_thresholds(server, 1000,
                                        "autovacuum_vacuum_scale_factor=0.01,autovacuum_analyze_threshold=5");
  CHECK_EQ(t.vacuum, 60.0);
  CHECK_EQ(t.analyze, 105.0);
  // PostgreSQL 18's cap, from the server or the table; -1 disables it.
  server.vacuum_max_threshold = 100000000;
  CHECK_EQ(collectors::autovacuum_thresholds(server, 1e9, "").vacuum, 100000000.0);
  CHECK_EQ(collectors::autovacuum_thresholds(server, 1e9, "autovacuum_vacuum_max_threshold=1000").vacuum,
           1000.0);
  CHECK_EQ(collectors::autovacuum_thresholds(server, 1e9, "autovacuum_vacuum_max_threshold=-1").vacuum,
           50 + 0.2 * 1e9);
  // Without the setting (before 18) a table's own cap is ignored, as then.
  server.vacuum_max_threshold.reset();
  CHECK_EQ(collectors::autovacuum_thresholds(server, 1e9, "autovacuum_vacuum_max_threshold=1000").vacuum,
           50 + 0.2 * 1e9);
}

TEST(relation_catalog_sql_opens_no_relation) {
  CHECK(has(collectors::relation_catalog_sql(130000), "c.relkind IN ('r', 'm') "));
  for (int v : kVersions) {
    const std::string s = collectors::relation_catalog_sql(v);
    if (v >= 140000) CHECK(has(s, "c.relkind IN ('r', 'm', 'p') "));
    // Sizes come from the files: no size function opens (locks, caches) a relation.
    CHECK(!has(s, "pg_table_size"));
    CHECK(!has(s, "pg_relation_size"));
    CHECK(!has(s, "pg_indexes_size"));
    CHECK(!has(s, "pg_total_relation_size"));
    // reltuples as float8: the float4 value exactly, as the server computes with it.
    CHECK(has(s, "c.reltuples::float8 END AS reltuples"));
    // The default tablespace's paths are built from relfilenode; only other
    // tablespaces ask pg_relation_filepath().
    CHECK(has(s, "c.reltablespace <> 0 OR db.dattablespace <> 1663 OR c.relfilenode = 0"));
  }
}

// The relations_* settings: no query at all when unset; one selection query
// per scrape when set (the collectors filter its result); user text always
// inside a literal.
TEST(relation_filter_sql) {
  collectors::RelationFilter none;
  CHECK(!none.active());
  for (int v : kVersions) {
    CHECK(collectors::relation_selection_sql(none, v).empty());
    CHECK(!has(collectors::relation_catalog_sql(v), "rel_selection"));
  }
  CHECK_EQ(collectors::sql_literal("a'b\\c"), "E'a''b\\\\c'");

  collectors::RelationFilter f;
  f.include = "^app\\.";
  f.exclude = "_old$' OR true --";
  const std::string incl = collectors::sql_literal(f.include), excl = collectors::sql_literal(f.exclude);
  CHECK_EQ(excl, "E'_old$'' OR true --'");
  for (int v : kVersions) {
    const std::string sql = collectors::relation_selection_sql(f, v);
    CHECK(has(sql, ("NOT (n.nspname || '.' || c.relname) ~ " + incl).c_str()));
    CHECK(has(sql, ("WHEN (n.nspname || '.' || c.relname) ~ " + excl).c_str()));
    CHECK(!has(sql, "row_number"));  // no limit: no ranking
    CHECK(!has(sql, "relpages"));
    CHECK(has(sql, v >= 140000 ? "c.relkind IN ('r', 'm', 'p')" : "c.relkind IN ('r', 'm') "));
    // Kept tables one per row, then the left-out counts by reason.
    CHECK(has(sql,
              "SELECT oid, NULL::text AS reason, NULL::int8 AS relations FROM rel_selection WHERE dropped IS "
              "NULL"));
    CHECK(has(sql, "count(*) FROM rel_selection WHERE dropped IS NOT NULL GROUP BY dropped"));
  }
  collectors::RelationFilter g;
  g.min_bytes = 65536;
  g.limit = 100;
  const std::string sql = collectors::relation_selection_sql(g, 150000);
  CHECK(has(sql, "current_setting('block_size')::float8 < 65536 THEN 'min_size'"));
  CHECK(has(sql, "ORDER BY activity DESC, oid) > 100 THEN 'limit'"));
  CHECK(has(sql, "pg_stat_get_tuples_returned(c.oid) + pg_stat_get_tuples_fetched(c.oid)"));
  CHECK(!has(sql, "'pattern'"));

  collectors::RelationSelection everything;
  CHECK(everything.keeps(12345));
  collectors::RelationSelection some;
  some.everything = false;
  some.kept = {10, 20, 30};
  CHECK(some.keeps(20));
  CHECK(!some.keeps(25));
}
