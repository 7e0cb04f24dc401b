// Per-index statistics: postgres_exporter's pg_statio_user_indexes_* and the
// Rust crate's pg_index_* names.
//
// The Rust crate exports pg_index_scans_total & co. as unlabelled sums over
// the whole database (and as gauges). Here they are per index, labelled like
// postgres_exporter's per-index families, and typed as the counters they are:
// sum() over them gives that crate's value, so its dashboards keep working,
// and an index can be told apart. The count families (invalid, unused) stay
// per-database gauges, as in that crate.
//
// pg_index and pg_class as read once per scrape for the per-table
// collectors (relation_catalog.h), joined here; the statistics from the
// server's C API (one lookup per index, not one pg_stat_get_* call
// per column): no lock is taken on any user relation (sizes are in
// relation_sizes). Rows
// follow pg_stat_user_indexes: indexes of plain tables and materialized views
// outside the system schemas (partitioned parents have no statistics), minus
// temporary tables (private, short-lived, a new series each) and our schema.
//
// "Unused" follows the crate (never scanned since the statistics were reset,
// not enforcing a primary key or unique constraint), also leaving out
// exclusion constraints (dropping the index drops the constraint) and invalid
// indexes (counted apart: they cannot be scanned at all).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "collectors/collector.h"

namespace collectors {

namespace {

constexpr auto C = prometheus::MetricType::Counter;
constexpr auto G = prometheus::MetricType::Gauge;

struct FamilyDef {
  const char* name;
  prometheus::MetricType type;
  const char* help;
  int64_t (*value)(const pgx::AccessCounters&);
};

const FamilyDef kFamilies[] = {
    {"pg_statio_user_indexes_idx_blks_read_total", C, "Number of disk blocks read from this index.",
     [](const pgx::AccessCounters& s) { return s.blocks_fetched - s.blocks_hit; }},
    {"pg_statio_user_indexes_idx_blks_hit_total", C, "Number of buffer hits in this index.",
     [](const pgx::AccessCounters& s) { return s.blocks_hit; }},
    {"pg_index_scans_total", C, "Number of index scans initiated on this index.",
     [](const pgx::AccessCounters& s) { return s.numscans; }},
    {"pg_index_tuples_read_total", C, "Number of index entries returned by scans on this index.",
     [](const pgx::AccessCounters& s) { return s.tuples_returned; }},
    {"pg_index_tuples_fetched_total", C,
     "Number of live table rows fetched by simple index scans using this index.",
     [](const pgx::AccessCounters& s) { return s.tuples_fetched; }},
};

void collect_indexes(const Context& ctx, metrics::Sink& out) {
  const RelationCatalog& cat = ctx.relation_catalog();
  const pgx::ResultSet& cls = cat.classes;
  const RelationSelection& selection = ctx.relation_selection();
  // pg_stat_user_indexes' rows: the indexes of the catalog's plain tables
  // and materialized views (partitioned parents have no statistics).
  struct Row {
    size_t index_row;     // in pg_index
    size_t table, index;  // in pg_class
  };
  std::vector<Row> rows;
  std::vector<uint32_t> positions;  // in index_facts
  rows.reserve(cat.index_facts.size());
  positions.reserve(cat.index_facts.size());
  for (size_t r = 0; r < cat.index_facts.size(); r++) {
    const uint32_t table = cat.index_facts[r].table_row, index = cat.index_facts[r].index_row;
    if (table == RelationCatalog::kNoRow || !cat.is_table(table)) continue;
    const char kind = cat.facts[table].kind;
    if (kind != 'r' && kind != 'm') continue;
    if (index == RelationCatalog::kNoRow) continue;
    rows.push_back({r, table, index});
    positions.push_back(static_cast<uint32_t>(r));
  }
  const std::vector<pgx::AccessCounters>& st = ctx.index_counters(positions);

  // Per-index series for the selected tables' indexes; the counts below
  // cover every index (an invalid index matters on any table).
  std::vector<metrics::Family> fams;
  const size_t label_bytes = rows.empty()
                                 ? 0
                                 : ctx.database.size() + cls.text(rows[0].table, cat.schema_c).size() +
                                       cls.text(rows[0].table, cat.rel_c).size() +
                                       cls.text(rows[0].index, cat.rel_c).size() + 56;
  out.reserve_label_sets(rows.size(), label_bytes);
  for (const FamilyDef& d : kFamilies) {
    fams.push_back(out.family(d.name, d.help, d.type));
    fams.back().reserve(rows.size());
  }
  metrics::Family valid_fam =
      out.gauge("pg_index_valid",
                "Whether the index is valid (1) or not (0, e.g. a failed CREATE INDEX CONCURRENTLY).");
  double invalid = 0, unused = 0;
  for (size_t k = 0; k < rows.size(); k++) {
    const Row& row = rows[k];
    const RelationCatalog::IndexFacts& ix = cat.index_facts[row.index_row];
    if (selection.keeps(cat.oid(row.table))) {
      const metrics::LabelSet labels{{"datname", ctx.database},
                                     {"schemaname", cls.text(row.table, cat.schema_c)},
                                     {"relname", cls.text(row.table, cat.rel_c)},
                                     {"indexrelname", cls.text(row.index, cat.rel_c)}};
      for (size_t f = 0; f < fams.size(); f++)
        fams[f].add(labels, static_cast<double>(kFamilies[f].value(st[row.index_row])));
      if (ix.valid_known) valid_fam.add(labels, ix.valid ? 1 : 0);
    }
    if (ix.valid_known && !ix.valid) {
      invalid++;
      continue;
    }
    if (ix.valid_known && ix.droppable_known && ix.droppable && st[row.index_row].numscans == 0) unused++;
  }
  // The counts exist (0) even when the database has no index at all.
  const std::string& datname = ctx.database;
  out.gauge("pg_index_invalid_count",
            "Number of invalid user indexes (e.g. left by a failed CREATE INDEX CONCURRENTLY).")
      .add({{"datname", datname}}, invalid);
  out.gauge("pg_index_unused_count",
            "Number of valid user indexes never scanned since the statistics were reset, not counting "
            "indexes that enforce a primary key, unique or exclusion constraint.")
      .add({{"datname", datname}}, unused);
}

}  // namespace

extern const Collector indexes_collector = {
    "indexes",
    "Per-index scan and block I/O statistics (pg_stat_user_indexes, pg_statio_user_indexes), invalid and "
    "unused index counts; takes no lock on user relations.",
    true,
    true,
    0,
    0,
    &collect_indexes};

}  // namespace collectors
