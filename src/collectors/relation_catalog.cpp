#include "collectors/relation_catalog.h"

#include <utility>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

std::string relation_catalog_sql(int server_version) {
  // pg_stat_user_tables lists partitioned tables from PostgreSQL 14 (size 0).
  const std::string table_kinds = server_version >= 140000 ? "('r', 'm', 'p')" : "('r', 'm')";
  // The user tables, their indexes, and the TOAST tables and TOAST indexes
  // (schema pg_toast) that the tables point to. Temporary relations are left
  // out, so pg_toast is the only TOAST schema left to tell apart (by oid: a
  // regular expression on its name cost a third of the query).
  return "WITH db AS (SELECT oid, dattablespace FROM pg_database WHERE datname = current_database()) "
         "SELECT c.oid, c.relkind, c.reltoastrelid, n.nspname AS schemaname, c.relname,"
         "  c.relnamespace = 'pg_toast'::regnamespace AS toast, db.oid AS dboid, c.relfilenode,"
         "  CASE WHEN c.relkind IN ('p', 'I') THEN NULL"
         "    WHEN c.reltablespace <> 0 OR db.dattablespace <> 1663 OR c.relfilenode = 0"
         "    THEN pg_relation_filepath(c.oid) END AS path,"
         // For the tables collector's autovacuum thresholds (float8: the exact
         // float4 value, as the server computes with it).
         "  CASE WHEN c.relkind IN ('r', 'm') THEN c.reltuples::float8 END AS reltuples,"
         "  CASE WHEN c.relkind IN ('r', 'm') THEN array_to_string(c.reloptions, ',') END AS reloptions,"
         // A partition's parent, for the partitioned tables' aggregates (one
         // index lookup per partition).
         "  CASE WHEN c.relispartition AND c.relkind IN ('r', 'p')"
         "    THEN (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid LIMIT 1) END AS parent "
         "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN db "
         "WHERE c.relpersistence <> 't' AND n.nspname NOT IN ('pg_catalog', 'information_schema', "
         "'pgexporter')"
         "  AND (c.relkind IN " +
         table_kinds + " AND c.relnamespace <> 'pg_toast'::regnamespace OR c.relkind IN ('i', 't'))";
}

const char* const kRelationIndexSql =
    "SELECT indrelid, indexrelid, indisvalid AS valid,"
    "  NOT (indisprimary OR indisunique OR indisexclusion) AS droppable "
    "FROM pg_index";

RelationCatalog::RelationCatalog(pgx::ResultSet c, const pgx::ResultSet& i)
    : classes(std::move(c)),
      indexes(i),
      oid_c(classes.require("oid")),
      kind_c(classes.require("relkind")),
      toast_rel_c(classes.require("reltoastrelid")),
      schema_c(classes.require("schemaname")),
      rel_c(classes.require("relname")),
      toast_c(classes.require("toast")),
      dboid_c(classes.require("dboid")),
      node_c(classes.require("relfilenode")),
      path_c(classes.require("path")),
      tuples_c(classes.require("reltuples")),
      options_c(classes.require("reloptions")),
      parent_c(classes.column("parent")),
      indrel_c(indexes.require("indrelid")),
      indexrel_c(indexes.require("indexrelid")),
      valid_c(indexes.require("valid")),
      droppable_c(indexes.require("droppable")) {
  row_of.reserve(classes.rows());
  for (size_t r = 0; r < classes.rows(); r++) row_of.emplace(oid(r), r);
}

std::optional<size_t> RelationCatalog::row(uint32_t oid) const {
  auto it = row_of.find(oid);
  if (it == row_of.end()) return std::nullopt;
  return it->second;
}

bool RelationCatalog::is_table(size_t r) const {
  const std::string_view kind = classes.text(r, kind_c);
  return classes.number(r, toast_c).value_or(0) == 0 && kind != "i" && kind != "I";
}

uint32_t RelationCatalog::parent(size_t r) const {
  if (parent_c < 0) return 0;
  return static_cast<uint32_t>(classes.number(r, static_cast<size_t>(parent_c)).value_or(0));
}

uint32_t RelationCatalog::oid(size_t r) const {
  return static_cast<uint32_t>(classes.number(r, oid_c).value_or(0));
}

const RelationCatalog& Context::relation_catalog() const {
  if (!catalog->value) {
    // Kept apart from `value` (which refers to it): a failure between the two
    // reads leaves the first for the next collector to ask.
    if (!catalog->indexes) catalog->indexes = query(kRelationIndexSql);
    catalog->value.emplace(query(relation_catalog_sql(server_version).c_str()), *catalog->indexes);
    catalog->reads++;
  }
  return *catalog->value;
}

}  // namespace collectors
