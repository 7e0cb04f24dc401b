// The version-dependent SQL of the tables and relation_sizes collectors, for
// every supported server version (only one of them runs in CI).
#include <string>

#include "collectors/relation_filter.h"
#include "collectors/versioned_sql.h"
#include "unit.h"

namespace {

bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

const int kVersions[] = {130000, 140000, 150000, 160000, 170000, 180000};

}  // namespace

TEST(tables_sql_partitioned_tables_from_14) {
  // pg_stat_user_tables lists partitioned tables from PostgreSQL 14 on.
  CHECK(has(collectors::tables_sql(130000), "c.relkind IN ('r', 'm') "));
  CHECK(!has(collectors::tables_sql(130000), "'p')"));
  for (int v : {140000, 150000, 160000, 170000, 180000}) {
    CHECK(has(collectors::tables_sql(v), "c.relkind IN ('r', 'm', 'p') "));
  }
}

TEST(tables_sql_vacuum_max_threshold_from_18) {
  for (int v : {130000, 140000, 150000, 160000, 170000}) {
    CHECK(!has(collectors::tables_sql(v), "max_threshold"));
  }
  const std::string s = collectors::tables_sql(180000);
  CHECK(has(s, "current_setting('autovacuum_vacuum_max_threshold')"));
  CHECK(has(s, "autovacuum_vacuum_max_threshold=([^,]+)"));
  CHECK(has(s,
            "least(coalesce(ro.vt, av.vt) + coalesce(ro.vs, av.vs) * greatest(c.reltuples, 0), "
            "coalesce(ro.vm, av.vm))"));
}

TEST(tables_sql_same_columns_everywhere) {
  // Every version yields the columns the collector reads; statistics come
  // from the C API, so no pg_stat_get_* call, no size function, no view: the
  // collector locks no user relation.
  for (int v : kVersions) {
    const std::string s = collectors::tables_sql(v);
    for (const char* c : {" AS datname,", " AS schemaname,", "c.relname,", "c.oid,", "c.reltoastrelid,",
                          " AS now,", " AS partitioned,", " AS vac_threshold,", " AS anl_threshold "}) {
      CHECK(has(s, c));
    }
    CHECK(!has(s, "pg_stat_get_"));
    CHECK(!has(s, "_size("));
    CHECK(!has(s, "pg_stat_user_tables"));
    CHECK(!has(s, "pg_statio_"));
    CHECK(has(s, "'pgexporter'"));
    CHECK(has(s, "relpersistence <> 't'"));
  }
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
    CHECK(!has(collectors::tables_sql(v), "rel_selection"));
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
