// The version-dependent SQL of the tables and relation_sizes collectors, for
// every supported server version (only one of them runs in CI).
#include <string>

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

TEST(relation_sizes_sql_opens_no_relation) {
  CHECK(has(collectors::relation_sizes_sql(130000), "c.relkind IN ('r', 'm') "));
  for (int v : kVersions) {
    const std::string s = collectors::relation_sizes_sql(v);
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

// The relations_* settings: no SQL at all when unset; the same selection in
// all three per-table collectors when set; user text always inside a literal.
TEST(relation_filter_sql) {
  collectors::RelationFilter none;
  CHECK(!none.active());
  for (int v : kVersions) {
    CHECK(!has(collectors::tables_sql(v), "rel_selection"));
    CHECK(!has(collectors::relation_sizes_sql(v), "rel_selection"));
    CHECK(!has(collectors::indexes_sql(v), "rel_selection"));
    CHECK(collectors::relation_dropped_sql(none, v).empty());
  }
  CHECK_EQ(collectors::sql_literal("a'b\\c"), "E'a''b\\\\c'");

  collectors::RelationFilter f;
  f.include = "^app\\.";
  f.exclude = "_old$' OR true --";
  const std::string incl = collectors::sql_literal(f.include), excl = collectors::sql_literal(f.exclude);
  CHECK_EQ(excl, "E'_old$'' OR true --'");
  for (int v : kVersions) {
    const std::string ctes = collectors::relation_selection_ctes(f, v);
    CHECK(has(ctes, ("NOT (n.nspname || '.' || c.relname) ~ " + incl).c_str()));
    CHECK(has(ctes, ("WHEN (n.nspname || '.' || c.relname) ~ " + excl).c_str()));
    CHECK(!has(ctes, "row_number"));  // no limit: no ranking
    CHECK(!has(ctes, "relpages"));
    CHECK(has(ctes, v >= 140000 ? "c.relkind IN ('r', 'm', 'p')" : "c.relkind IN ('r', 'm') "));
    // The tables collector filters; the other two keep every row for their
    // database-wide counts and mark the kept ones.
    CHECK(has(collectors::tables_sql(v, f), ("WITH " + ctes + "av AS (").c_str()));
    CHECK(has(collectors::tables_sql(v, f),
              "AND c.oid IN (SELECT oid FROM rel_selection WHERE dropped IS NULL)"));
    CHECK(has(collectors::indexes_sql(v, f),
              "(t.oid IN (SELECT oid FROM rel_selection WHERE dropped IS NULL)) AS kept"));
    CHECK(has(collectors::relation_sizes_sql(v, f),
              "(c.oid IN (SELECT oid FROM rel_selection WHERE dropped IS NULL)) END AS kept"));
    CHECK(has(collectors::relation_dropped_sql(f, v), "GROUP BY dropped"));
  }
  collectors::RelationFilter g;
  g.min_bytes = 65536;
  g.limit = 100;
  const std::string ctes = collectors::relation_selection_ctes(g, 150000);
  CHECK(has(ctes, "current_setting('block_size')::float8 < 65536 THEN 'min_size'"));
  CHECK(has(ctes, "ORDER BY activity DESC, oid) > 100 THEN 'limit'"));
  CHECK(has(ctes, "pg_stat_get_tuples_returned(c.oid) + pg_stat_get_tuples_fetched(c.oid)"));
  CHECK(!has(ctes, "'pattern'"));
}
