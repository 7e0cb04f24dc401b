// The user tables, their indexes and TOAST relations (pg_class) and which
// index belongs to which table (pg_index), read once per scrape and shared by
// the collectors that need them (relation_sizes, indexes, tables): at 20,000
// tables each of them reading and joining the catalogs itself cost more than
// their statistics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pg/oid_map.h"
#include "pg/relation_stats.h"
#include "pg/result.h"

namespace collectors {

// relation_catalog_sql() (versioned_sql.h) gives one row per relation: oid,
// relkind, reltoastrelid, schemaname, relname, toast (in pg_toast), dboid,
// relfilenode, path (NULL: base/<dboid>/<relfilenode>), for tables and
// materialized views reltuples and reloptions (joined by commas), and for
// partitions their parent.
// One row per index: indrelid, indexrelid, valid, droppable (not enforcing
// a primary key, unique or exclusion constraint).
extern const char* const kRelationIndexSql;

// Kept across scrapes (KeptReads), so kept small: the numbers are parsed
// into `facts` and `index_facts` once, and what stays of the text is what
// the collectors print or pass on (at 20,000 tables 120,000 rows: the
// whole text read was 20 MB of the worker's memory between scrapes).
struct RelationCatalog {
  // One row per pg_class row read: schemaname (tables only), relname (not
  // for TOAST tables), path, reltuples, reloptions.
  pgx::ResultSet classes;
  static constexpr size_t schema_c = 0, rel_c = 1, path_c = 2, tuples_c = 3, options_c = 4;
  std::string dboid;   // the database's oid, as text (path of a relation: base/<dboid>/<relfilenode>)
  pgx::OidMap row_of;  // oid -> row of `classes`
  // Parsed once per catalog read (kept across scrapes with it), not once
  // per collector and scrape: the numbers of each `classes` row...
  static constexpr uint32_t kNoRow = UINT32_MAX;
  struct Facts {
    uint32_t oid = 0, toast_oid = 0, parent = 0, relfilenode = 0;
    // Where its indexes are in index_by_table, and its TOAST table's row:
    // resolved once per catalog read, not looked up per collector and scrape.
    uint32_t index_first = 0, index_count = 0, toast_row = kNoRow;
    char kind = 0;
    bool toast = false;
  };
  std::vector<Facts> facts;
  // ... and each `indexes` row, with the rows ordered by table (pg_index
  // order within a table).
  struct IndexFacts {
    uint32_t indrel = 0, indexrel = 0;
    uint32_t index_row = kNoRow, table_row = kNoRow;  // rows of `classes` (kNoRow: not read)
    bool valid = false, droppable = false;
    bool valid_known = false, droppable_known = false;
  };
  std::vector<IndexFacts> index_facts;
  std::vector<uint32_t> index_by_table;  // positions in index_facts
  // The rows of the tables (is_table), by (schemaname, relname).
  std::vector<uint32_t> tables_by_name;
  // The positions in index_facts of the indexes of `rel`, as [first, last).
  std::pair<const uint32_t*, const uint32_t*> indexes_of(uint32_t rel) const;
  // The same for the relation at row `r`.
  std::pair<const uint32_t*, const uint32_t*> indexes_of_row(size_t r) const {
    const uint32_t* first = index_by_table.data() + facts[r].index_first;
    return {first, first + facts[r].index_count};
  }

  // From relation_catalog_sql() and kRelationIndexSql rows; throws on a
  // missing column.
  RelationCatalog(const pgx::ResultSet& c, const pgx::ResultSet& i) {
    add_classes(c);
    finish(i);
  }
  // Or built a batch of relation_catalog_sql() rows at a time (the read is
  // then never held whole next to this copy of it: at 20,000 tables the
  // result is twice the size of the copy), then finished with pg_index.
  RelationCatalog() = default;
  void add_classes(const pgx::ResultSet& c);
  void finish(const pgx::ResultSet& i);
  // Takes in the rows of relation_catalog_sql() for the relations `asked`
  // (oids, sorted), read again after they changed. False when that is more
  // than rows can take in place (a relation created, dropped, renamed, moved
  // to another schema, given a TOAST table or attached), or the replaced
  // text took too much room: this catalog must then be read again whole.
  bool update(const pgx::ResultSet& c, const std::vector<uint32_t>& asked);
  // The row of a relation, or nullopt when it is not one of these.
  std::optional<size_t> row(uint32_t oid) const;
  // A user table or materialized view (also partitioned): not TOAST, not an index.
  bool is_table(size_t r) const;
  uint32_t oid(size_t r) const;
  // The partitioned table a partition belongs to; 0 for any other relation.
  uint32_t parent(size_t r) const;
};

// The indexes' counters as one scrape read them (pg/relation_stats.h), by
// position in RelationCatalog::index_facts, for the other per-table
// collectors of the same scrape: each index is read once per scrape, not
// once per collector, and kept once (40 bytes an index), not copied.
struct IndexCounters {
  std::vector<pgx::AccessCounters> counters;  // at least index_facts.size() once read
  std::vector<bool> known;
};

// Filled by the first collector of a scrape that needs it (Context); the
// worker keeps it across scrapes (KeptReads).
struct RelationCatalogCache {
  std::optional<pgx::ResultSet> indexes;  // pg_index as read, until `value` is built
  std::optional<RelationCatalog> value;
  // Relations (oids, sorted) of `value` that changed since it was read: the
  // next scrape that asks reads their rows again (RelationCatalog::update).
  std::vector<uint32_t> stale;
  uint64_t reads = 0;      // whole reads of pg_class: pg_exporter_catalog_reads_total
  uint64_t refreshes = 0;  // reads of changed rows: pg_exporter_catalog_refreshes_total
  void clear() {
    value.reset();
    indexes.reset();
    stale.clear();
  }
};

}  // namespace collectors
