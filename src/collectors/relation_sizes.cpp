// Table and index sizes: postgres_exporter's pg_stat_user_tables_table_size_bytes
// (pg_table_size: heap, free space and visibility maps, TOAST) and
// _index_size_bytes (pg_indexes_size), the Rust crate's per-index
// pg_index_size_bytes (all forks, so that they add up to index_size_bytes)
// and pg_index_unused_size_bytes.
//
// The sizes come from the relations' files (datadir/relation_files.cpp), not
// from pg_table_size(): that opens each relation, so it waits behind an
// ACCESS EXCLUSIVE lock (ALTER TABLE, REINDEX, TRUNCATE in a long
// transaction: postgres_exporter's table collector then blocks until its
// timeout) and leaves a relcache entry behind for every table and index, about
// 6 kB each, for the life of the worker. The query only reads pg_class for the
// file paths; nothing is locked or cached. A relation rewritten or dropped
// between the catalog read and the stat() has no size in that scrape.
// Paths in the database's default tablespace are built from relfilenode;
// elsewhere pg_relation_filepath() gives them (a syscache lookup, no lock).
#include <map>
#include <stdexcept>
#include <string>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"
#include "datadir/relation_files.h"

namespace collectors {

namespace {

// The main fork's path of pg_class row `c` ('' for relations without storage).
std::string path_of(const char* c) {
  const std::string a(c);
  return "CASE WHEN " + a + ".relkind IN ('p', 'I') THEN '' WHEN " + a + ".reltablespace = 0 AND " + a +
         ".relfilenode <> 0 AND db.dattablespace = 1663 THEN 'base/' || db.oid || '/' || " + a +
         ".relfilenode ELSE pg_relation_filepath(" + a + ".oid) END";
}

}  // namespace

std::string relation_sizes_sql(int server_version, const RelationFilter& f) {
  // pg_stat_user_tables lists partitioned tables from PostgreSQL 14 (size 0).
  const char* relkinds = server_version >= 140000 ? "('r', 'm', 'p')" : "('r', 'm')";
  return "WITH " + relation_selection_ctes(f, server_version) +
         "db AS (SELECT oid, dattablespace FROM pg_database WHERE datname = current_database()), "
         "rels AS ("
         "  SELECT c.*, n.nspname, " +
         relation_kept(f, "c.oid") +
         " AS kept FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
         "  WHERE c.relkind IN " +
         std::string(relkinds) +
         " AND c.relpersistence <> 't'"
         "    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgexporter')"
         "    AND n.nspname !~ '^pg_toast') "
         // A table: its own files, its TOAST table's and the TOAST index's.
         "SELECT 'table' AS kind, r.nspname AS schemaname, r.relname, "
         "  NULL::name AS indexrelname, concat_ws(',', " +
         path_of("r") + ", CASE WHEN t.oid IS NOT NULL THEN " + path_of("t") +
         " END, CASE WHEN ti.oid IS NOT NULL THEN " + path_of("ti") +
         " END) AS paths, NULL::bool AS unused, r.kept "
         "FROM rels r CROSS JOIN db "
         "LEFT JOIN pg_class t ON t.oid = r.reltoastrelid "
         "LEFT JOIN pg_index tx ON tx.indrelid = t.oid LEFT JOIN pg_class ti ON ti.oid = tx.indexrelid "
         "UNION ALL "
         "SELECT 'index', r.nspname, r.relname, i.relname, " +
         path_of("i") +
         ", pg_stat_get_numscans(i.oid) = 0 AND x.indisvalid"
         "    AND NOT (x.indisprimary OR x.indisunique OR x.indisexclusion), r.kept "
         "FROM rels r CROSS JOIN db JOIN pg_index x ON x.indrelid = r.oid JOIN pg_class i ON i.oid = "
         "x.indexrelid "
         // Partitioned indexes have no storage and no pg_stat_user_indexes row.
         "WHERE i.relkind = 'i'";
}

namespace {

constexpr auto G = prometheus::MetricType::Gauge;

// Sum of the comma-separated relations' files; nullopt if one is missing.
std::optional<double> files_bytes(datadir::RelationFiles& files, std::string_view paths) {
  double total = 0;
  size_t start = 0;
  while (start < paths.size()) {
    size_t comma = paths.find(',', start);
    if (comma == std::string_view::npos) comma = paths.size();
    auto bytes = files.bytes(paths.substr(start, comma - start));
    if (!bytes) return std::nullopt;
    total += static_cast<double>(*bytes);
    start = comma + 1;
  }
  return total;
}

void collect_relation_sizes(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(relation_sizes_sql(ctx.server_version, ctx.relations).c_str());
  const size_t kind_c = rs.require("kind"), schema_c = rs.require("schemaname"),
               rel_c = rs.require("relname"), index_c = rs.require("indexrelname"),
               paths_c = rs.require("paths"), unused_c = rs.require("unused"),
               kept_c = rs.require("kept");
  const std::string& datname = ctx.database;

  metrics::Family table_size = out.gauge(
      "pg_stat_user_tables_table_size_bytes",
      "Disk space used by this table (with its TOAST table, free space and visibility maps), in bytes.");
  metrics::Family indexes_size = out.gauge("pg_stat_user_tables_index_size_bytes",
                                           "Disk space used by all indexes on this table, in bytes.");
  metrics::Family index_size = out.gauge("pg_index_size_bytes", "Disk space used by this index, in bytes.");

  // Per table: the sum of its indexes, unknown if one index has no size.
  struct Sum {
    double bytes = 0;
    bool known = true;
  };
  std::map<std::pair<std::string_view, std::string_view>, Sum> per_table;
  datadir::RelationFiles files;
  double unused_bytes = 0;
  bool unused_known = true;
  for (size_t r = 0; r < rs.rows(); r++) {
    // Tables the relations_* settings leave out have no series; their
    // unused indexes still count in pg_index_unused_size_bytes.
    const bool kept = rs.number(r, kept_c).value_or(0) != 0;
    const bool unused = rs.number(r, unused_c).value_or(0) != 0;
    if (!kept && !unused) continue;
    const std::string_view schema = rs.text(r, schema_c), rel = rs.text(r, rel_c);
    const auto size = files_bytes(files, rs.text(r, paths_c));
    if (rs.text(r, kind_c) == "table") {
      per_table.try_emplace({schema, rel});
      if (size) table_size.add({{"datname", datname}, {"schemaname", schema}, {"relname", rel}}, *size);
      continue;
    }
    if (kept) {
      Sum& sum = per_table[{schema, rel}];
      if (size) {
        sum.bytes += *size;
        index_size.add({{"datname", datname},
                        {"schemaname", schema},
                        {"relname", rel},
                        {"indexrelname", rs.text(r, index_c)}},
                       *size);
      } else {
        sum.known = false;
      }
    }
    if (unused) {
      if (size) {
        unused_bytes += *size;
      } else {
        unused_known = false;
      }
    }
  }
  for (const auto& [key, sum] : per_table) {
    if (sum.known)
      indexes_size.add({{"datname", datname}, {"schemaname", key.first}, {"relname", key.second}}, sum.bytes);
  }
  if (unused_known) {
    out.gauge("pg_index_unused_size_bytes",
              "Disk space used by the indexes that pg_index_unused_count counts, in bytes.")
        .add({{"datname", datname}}, unused_bytes);
  }
}

}  // namespace

extern const Collector relation_sizes_collector = {
    "relation_sizes",
    "Table and index sizes (as pg_table_size, pg_indexes_size, per index), read from the relations' files: "
    "no lock, no wait.",
    true,
    true,
    0,
    0,
    &collect_relation_sizes};

}  // namespace collectors
