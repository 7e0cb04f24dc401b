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
// 6 kB each, for the life of the worker. Nothing is locked or cached here. A
// relation rewritten or dropped between the catalog read and the stat() has
// no size in that scrape.
//
// Two plain scans shared with the other per-table collectors
// (relation_catalog.h: pg_class with the file locations, pg_index for which
// index and TOAST table belongs to which table); the joins are done here:
// at 20,000 tables the SQL joins cost more than the scans. Paths in the
// database's default tablespace are built from relfilenode; elsewhere
// pg_relation_filepath() gives them (a syscache lookup, no lock).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"
#include "datadir/relation_files.h"

namespace collectors {

namespace {

void collect_relation_sizes(const Context& ctx, metrics::Sink& out) {
  const RelationCatalog& cat = ctx.relation_catalog();
  const pgx::ResultSet& rs = cat.classes;
  const RelationSelection& selection = ctx.relation_selection();
  const size_t schema_c = cat.schema_c, rel_c = cat.rel_c, path_c = cat.path_c;
  const std::string& datname = ctx.database;

  // The tables' rows, sorted by (schema, table) like the per-table sums
  // always were.
  const std::vector<uint32_t>& tables = cat.tables_by_name;
  // Unused: never scanned (and droppable, valid). Each index's counters (the
  // tables collector's statistics pass read them), in the order the loop
  // below visits them.
  std::vector<uint32_t> index_positions;
  for (size_t t : tables) {
    auto [first, last] = cat.indexes_of_row(t);
    index_positions.insert(index_positions.end(), first, last);
  }
  const std::vector<pgx::AccessCounters>& index_stats = ctx.index_counters(index_positions);

  datadir::RelationFiles files(ctx.files.get());
  const std::string database_dir = "base/" + cat.dboid;
  // The size of one relation's files; nullopt if it has none now (dropped).
  auto size_of_row = [&](size_t r) -> std::optional<double> {
    const char kind = cat.facts[r].kind;
    std::optional<uint64_t> bytes;
    if (!rs.is_null(r, path_c)) {
      bytes = files.bytes(rs.text(r, path_c));  // another tablespace, a mapped catalog
    } else if (kind == 'p' || kind == 'I') {
      return 0.0;  // partitioned: no storage
    } else {
      bytes = files.bytes(database_dir, cat.facts[r].relfilenode);
    }
    if (!bytes) return std::nullopt;
    return static_cast<double>(*bytes);
  };

  auto has_storage = [&](size_t r) { return cat.facts[r].kind != 'p' && cat.facts[r].kind != 'I'; };

  metrics::Family table_size = out.gauge(
      "pg_stat_user_tables_table_size_bytes",
      "Disk space used by this table (with its TOAST table, free space and visibility maps), in bytes.");
  metrics::Family indexes_size = out.gauge("pg_stat_user_tables_index_size_bytes",
                                           "Disk space used by all indexes on this table, in bytes.");
  metrics::Family index_size = out.gauge("pg_index_size_bytes", "Disk space used by this index, in bytes.");
  // A table's label set (two families) and an index's.
  out.reserve_label_sets(tables.size() + index_positions.size(), 100);
  table_size.reserve(tables.size());
  indexes_size.reserve(tables.size());
  index_size.reserve(index_positions.size());

  // Pass 1, in table order: each table's own sizes (kept tables, and the
  // partitions whose parents add them up), per-index series, unused indexes.
  struct Sizes {
    std::optional<double> table, indexes;
  };
  std::vector<Sizes> sizes(tables.size());  // by place in `tables`
  std::vector<uint32_t> place_of(rs.rows(), RelationCatalog::kNoRow);
  for (size_t k = 0; k < tables.size(); k++) place_of[tables[k]] = static_cast<uint32_t>(k);
  std::unordered_map<uint32_t, std::vector<size_t>> partitions_of;
  for (size_t t : tables) {
    if (const uint32_t parent = cat.parent(t); parent != 0) partitions_of[parent].push_back(t);
  }
  double unused_bytes = 0;
  bool unused_known = true;
  for (size_t t : tables) {
    const uint32_t oid = cat.oid(t);
    const bool kept = selection.keeps(oid);
    const bool needed = kept || cat.parent(t) != 0;
    Sizes own;
    if (needed) {
      // The table, its TOAST table and the TOAST table's index, as pg_table_size.
      std::optional<double> size = size_of_row(t);
      const uint32_t toast_oid = cat.facts[t].toast_oid, toast_row = cat.facts[t].toast_row;
      if (size && toast_oid != 0) {
        auto toast = toast_row != RelationCatalog::kNoRow ? size_of_row(toast_row) : std::nullopt;
        size = toast ? std::optional<double>(*size + *toast) : std::nullopt;
        auto [first, last] =
            toast_row != RelationCatalog::kNoRow ? cat.indexes_of_row(toast_row) : cat.indexes_of(toast_oid);
        for (const uint32_t* i = first; i != last; ++i) {
          const uint32_t irow = cat.index_facts[*i].index_row;
          auto tsize = irow != RelationCatalog::kNoRow ? size_of_row(irow) : std::nullopt;
          size = size && tsize ? std::optional<double>(*size + *tsize) : std::nullopt;
        }
      }
      own.table = size;
    }
    double sum = 0;
    bool sum_known = true;
    auto [first, last] = cat.indexes_of_row(t);
    for (const uint32_t* i = first; i != last; ++i) {
      const RelationCatalog::IndexFacts& ix = cat.index_facts[*i];
      const pgx::AccessCounters& st = index_stats[*i];
      const bool unused = ix.valid && ix.droppable && st.numscans == 0;
      // Tables the relations_* settings leave out have no series; their
      // unused indexes still count in pg_index_unused_size_bytes.
      if (!needed && !unused) continue;
      const uint32_t irow = ix.index_row;
      if (irow == RelationCatalog::kNoRow || !has_storage(irow)) continue;  // a partitioned index: no storage
      const auto size = size_of_row(irow);
      if (needed) {
        if (size) {
          sum += *size;
          if (kept) {
            index_size.add({{"datname", datname},
                            {"schemaname", rs.text(t, schema_c)},
                            {"relname", rs.text(t, rel_c)},
                            {"indexrelname", rs.text(irow, rel_c)}},
                           *size);
          }
        } else {
          sum_known = false;
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
    if (needed && sum_known) own.indexes = sum;
    if (needed) sizes[place_of[t]] = own;
  }
  // A partitioned table has no storage of its own: its sizes are those of
  // its partitions added up (sub-partitioned ones too), as dashboards that
  // rank tables by size expect; unknown when one of them is.
  std::function<Sizes(size_t, int)> total = [&](size_t t, int depth) -> Sizes {
    if (!has_storage(t) && depth < 64) {
      Sizes sum{0.0, 0.0};
      auto pit = partitions_of.find(cat.oid(t));
      if (pit == partitions_of.end()) return sum;
      for (size_t p : pit->second) {
        const Sizes part = total(p, depth + 1);
        sum.table = sum.table && part.table ? std::optional<double>(*sum.table + *part.table) : std::nullopt;
        sum.indexes =
            sum.indexes && part.indexes ? std::optional<double>(*sum.indexes + *part.indexes) : std::nullopt;
      }
      return sum;
    }
    return place_of[t] == RelationCatalog::kNoRow ? Sizes{} : sizes[place_of[t]];
  };
  // Pass 2, in table order: the per-table series.
  for (size_t t : tables) {
    if (!selection.keeps(cat.oid(t))) continue;
    const Sizes s = total(t, 0);
    const metrics::LabelSet labels{
        {"datname", datname}, {"schemaname", rs.text(t, schema_c)}, {"relname", rs.text(t, rel_c)}};
    if (s.table) table_size.add(labels, *s.table);
    if (s.indexes) indexes_size.add(labels, *s.indexes);
  }
  out.gauge("pg_exporter_relation_sizes_age_seconds",
            "Age of the oldest file listing the relation sizes of this scrape were read from, in seconds "
            "(pg_exporter.size_ttl; 0 when listed by this scrape).")
      .add({{"datname", datname}}, ctx.files->oldest_age_seconds(ctx.started));
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
