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

// One pg_class row, as the sizes need it.
struct Rel {
  size_t row;
  std::string path;    // the main fork's path; empty: no storage
  bool table = false;  // a user table (not TOAST, not an index)
  bool toast = false;
  uint32_t toast_oid = 0;
};

void collect_relation_sizes(const Context& ctx, metrics::Sink& out) {
  const RelationCatalog& cat = ctx.relation_catalog();
  const pgx::ResultSet& rs = cat.classes;
  const pgx::ResultSet& idx = cat.indexes;
  const RelationSelection& selection = ctx.relation_selection();
  const size_t kind_c = cat.kind_c, toast_rel_c = cat.toast_rel_c, schema_c = cat.schema_c, rel_c = cat.rel_c,
               toast_c = cat.toast_c, dboid_c = cat.dboid_c, node_c = cat.node_c, path_c = cat.path_c;
  const std::string& datname = ctx.database;

  std::unordered_map<uint32_t, Rel> rels;
  rels.reserve(rs.rows());
  std::vector<uint32_t> tables;
  for (size_t r = 0; r < rs.rows(); r++) {
    const uint32_t oid = cat.oid(r);
    const std::string_view kind = rs.text(r, kind_c);
    Rel rel;
    rel.row = r;
    rel.toast = rs.number(r, toast_c).value_or(0) != 0;
    rel.table = cat.is_table(r);
    rel.toast_oid = static_cast<uint32_t>(rs.number(r, toast_rel_c).value_or(0));
    if (!rs.is_null(r, path_c)) {
      rel.path = std::string(rs.text(r, path_c));
    } else if (kind != "p" && kind != "I") {
      rel.path = "base/" + std::string(rs.text(r, dboid_c)) + "/" + std::string(rs.text(r, node_c));
    }
    if (rel.table) tables.push_back(oid);
    rels.emplace(oid, std::move(rel));
  }
  // Indexes by table, in pg_index order.
  std::unordered_map<uint32_t, std::vector<std::pair<uint32_t, bool>>> indexes_of;
  for (size_t r = 0; r < idx.rows(); r++) {
    const auto rel = static_cast<uint32_t>(idx.number(r, cat.indrel_c).value_or(0));
    if (rels.count(rel) == 0) continue;  // a catalog's index
    indexes_of[rel].emplace_back(
        static_cast<uint32_t>(idx.number(r, cat.indexrel_c).value_or(0)),
        idx.number(r, cat.valid_c).value_or(0) != 0 && idx.number(r, cat.droppable_c).value_or(0) != 0);
  }
  // Sorted by (schema, table) like the per-table sums always were.
  // (Keys gathered first: two hash lookups per comparison cost more than the sort.)
  struct Key {
    std::string_view schema, name;
    uint32_t oid;
  };
  std::vector<Key> keys;
  keys.reserve(tables.size());
  for (uint32_t t : tables) {
    const size_t row = rels.at(t).row;
    keys.push_back({rs.text(row, schema_c), rs.text(row, rel_c), t});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& x, const Key& y) {
    return x.schema != y.schema ? x.schema < y.schema : x.name < y.name;
  });
  for (size_t k = 0; k < keys.size(); k++) tables[k] = keys[k].oid;
  // Unused: never scanned (and droppable, valid). One statistics lookup per
  // index, in the order the loop below visits them.
  std::vector<uint32_t> index_oids;
  for (uint32_t t : tables) {
    for (const auto& [i, droppable] : indexes_of[t]) index_oids.push_back(i);
  }
  const std::vector<pgx::RelationStats> index_stats = ctx.relation_stats(index_oids);

  datadir::RelationFiles files(ctx.files.get());
  // The size of one relation's files; nullopt if it has none now (dropped).
  auto size_of = [&](uint32_t oid) -> std::optional<double> {
    auto it = rels.find(oid);
    if (it == rels.end()) return std::nullopt;
    if (it->second.path.empty()) return 0.0;  // partitioned: no storage
    auto bytes = files.bytes(it->second.path);
    if (!bytes) return std::nullopt;
    return static_cast<double>(*bytes);
  };

  metrics::Family table_size = out.gauge(
      "pg_stat_user_tables_table_size_bytes",
      "Disk space used by this table (with its TOAST table, free space and visibility maps), in bytes.");
  metrics::Family indexes_size = out.gauge("pg_stat_user_tables_index_size_bytes",
                                           "Disk space used by all indexes on this table, in bytes.");
  metrics::Family index_size = out.gauge("pg_index_size_bytes", "Disk space used by this index, in bytes.");
  table_size.reserve(tables.size(), 80);
  indexes_size.reserve(tables.size(), 80);
  index_size.reserve(index_oids.size(), 110);

  // Pass 1, in table order: each table's own sizes (kept tables, and the
  // partitions whose parents add them up), per-index series, unused indexes.
  struct Sizes {
    std::optional<double> table, indexes;
  };
  std::unordered_map<uint32_t, Sizes> sizes;
  std::unordered_map<uint32_t, std::vector<uint32_t>> partitions_of;
  for (uint32_t t : tables) {
    if (const uint32_t parent = cat.parent(rels.at(t).row); parent != 0) partitions_of[parent].push_back(t);
  }
  double unused_bytes = 0;
  bool unused_known = true;
  size_t stat_i = 0;
  for (uint32_t t : tables) {
    const Rel& table = rels.at(t);
    const bool kept = selection.keeps(t);
    const bool needed = kept || cat.parent(table.row) != 0;
    const std::vector<std::pair<uint32_t, bool>>& indexes = indexes_of[t];
    Sizes& own = sizes[t];
    if (needed) {
      // The table, its TOAST table and the TOAST table's index, as pg_table_size.
      std::optional<double> size = size_of(t);
      if (size && table.toast_oid != 0) {
        auto toast = size_of(table.toast_oid);
        size = toast ? std::optional<double>(*size + *toast) : std::nullopt;
        for (const auto& [ti, unused_flag] : indexes_of[table.toast_oid]) {
          auto tsize = size_of(ti);
          size = size && tsize ? std::optional<double>(*size + *tsize) : std::nullopt;
        }
      }
      own.table = size;
    }
    double sum = 0;
    bool sum_known = true;
    for (const auto& [i, droppable] : indexes) {
      const pgx::RelationStats& st = index_stats[stat_i++];
      const bool unused = droppable && st.numscans == 0;
      // Tables the relations_* settings leave out have no series; their
      // unused indexes still count in pg_index_unused_size_bytes.
      if (!needed && !unused) continue;
      auto it = rels.find(i);
      if (it == rels.end() || it->second.path.empty()) continue;  // a partitioned index: no storage
      const auto size = size_of(i);
      if (needed) {
        if (size) {
          sum += *size;
          if (kept) {
            index_size.add({{"datname", datname},
                            {"schemaname", rs.text(table.row, schema_c)},
                            {"relname", rs.text(table.row, rel_c)},
                            {"indexrelname", rs.text(it->second.row, rel_c)}},
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
  }
  // A partitioned table has no storage of its own: its sizes are those of
  // its partitions added up (sub-partitioned ones too), as dashboards that
  // rank tables by size expect; unknown when one of them is.
  std::function<Sizes(uint32_t, int)> total = [&](uint32_t t, int depth) -> Sizes {
    auto pit = partitions_of.find(t);
    if (rels.at(t).path.empty() && depth < 64) {
      Sizes sum{0.0, 0.0};
      if (pit == partitions_of.end()) return sum;
      for (uint32_t p : pit->second) {
        const Sizes part = total(p, depth + 1);
        sum.table = sum.table && part.table ? std::optional<double>(*sum.table + *part.table) : std::nullopt;
        sum.indexes =
            sum.indexes && part.indexes ? std::optional<double>(*sum.indexes + *part.indexes) : std::nullopt;
      }
      return sum;
    }
    return sizes[t];
  };
  // Pass 2, in table order: the per-table series.
  for (uint32_t t : tables) {
    if (!selection.keeps(t)) continue;
    const Rel& table = rels.at(t);
    const Sizes s = total(t, 0);
    const metrics::LabelSet labels{{"datname", datname},
                                   {"schemaname", rs.text(table.row, schema_c)},
                                   {"relname", rs.text(table.row, rel_c)}};
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
