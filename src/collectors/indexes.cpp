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
// One pass over pg_index joined to pg_class for the names, the statistics
// from the server's C API (one lookup per index, not one pg_stat_get_* call
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
#include <stdexcept>
#include <string>
#include <vector>

#include "collectors/collector.h"

namespace collectors {

namespace {

constexpr auto C = prometheus::MetricType::Counter;
constexpr auto G = prometheus::MetricType::Gauge;

constexpr const char* kSql =
    "SELECT current_database() AS datname, n.nspname AS schemaname, t.relname, i.relname AS indexrelname,"
    "  i.oid, t.oid AS table_oid, x.indisvalid AS valid,"
    "  NOT (x.indisprimary OR x.indisunique OR x.indisexclusion) AS droppable "
    "FROM pg_index x"
    " JOIN pg_class i ON i.oid = x.indexrelid"
    " JOIN pg_class t ON t.oid = x.indrelid"
    " JOIN pg_namespace n ON n.oid = t.relnamespace "
    "WHERE t.relkind IN ('r', 'm') AND t.relpersistence <> 't'"
    "  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgexporter') AND n.nspname !~ '^pg_toast'";

struct FamilyDef {
  const char* name;
  prometheus::MetricType type;
  const char* help;
  int64_t (*value)(const pgx::RelationStats&);
};

const FamilyDef kFamilies[] = {
    {"pg_statio_user_indexes_idx_blks_read_total", C, "Number of disk blocks read from this index.",
     [](const pgx::RelationStats& s) { return s.blocks_fetched - s.blocks_hit; }},
    {"pg_statio_user_indexes_idx_blks_hit_total", C, "Number of buffer hits in this index.",
     [](const pgx::RelationStats& s) { return s.blocks_hit; }},
    {"pg_index_scans_total", C, "Number of index scans initiated on this index.",
     [](const pgx::RelationStats& s) { return s.numscans; }},
    {"pg_index_tuples_read_total", C, "Number of index entries returned by scans on this index.",
     [](const pgx::RelationStats& s) { return s.tuples_returned; }},
    {"pg_index_tuples_fetched_total", C,
     "Number of live table rows fetched by simple index scans using this index.",
     [](const pgx::RelationStats& s) { return s.tuples_fetched; }},
};

void collect_indexes(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(kSql);
  const RelationSelection& selection = ctx.relation_selection();
  const size_t datname_c = rs.require("datname"), schema_c = rs.require("schemaname"),
               rel_c = rs.require("relname"), index_c = rs.require("indexrelname"), oid_c = rs.require("oid"),
               valid_c = rs.require("valid"), droppable_c = rs.require("droppable"),
               table_c = rs.require("table_oid");
  std::vector<uint32_t> oids(rs.rows());
  for (size_t r = 0; r < rs.rows(); r++) oids[r] = static_cast<uint32_t>(rs.number(r, oid_c).value_or(0));
  const std::vector<pgx::RelationStats> st = ctx.relation_stats(oids);

  // Per-index series for the selected tables' indexes; the counts below
  // cover every index (an invalid index matters on any table).
  std::vector<metrics::Family> fams;
  const size_t label_bytes = rs.rows() == 0 ? 0
                                            : rs.text(0, datname_c).size() + rs.text(0, schema_c).size() +
                                                  rs.text(0, rel_c).size() + rs.text(0, index_c).size() + 56;
  for (const FamilyDef& d : kFamilies) {
    fams.push_back(out.family(d.name, d.help, d.type));
    fams.back().reserve(rs.rows(), label_bytes);
  }
  metrics::Family valid_fam =
      out.gauge("pg_index_valid",
                "Whether the index is valid (1) or not (0, e.g. a failed CREATE INDEX CONCURRENTLY).");
  double invalid = 0, unused = 0;
  for (size_t r = 0; r < rs.rows(); r++) {
    const auto valid = rs.number(r, valid_c);
    if (selection.keeps(static_cast<uint32_t>(rs.number(r, table_c).value_or(0)))) {
      const metrics::LabelSet labels{{"datname", rs.text(r, datname_c)},
                                     {"schemaname", rs.text(r, schema_c)},
                                     {"relname", rs.text(r, rel_c)},
                                     {"indexrelname", rs.text(r, index_c)}};
      for (size_t k = 0; k < fams.size(); k++)
        fams[k].add(labels, static_cast<double>(kFamilies[k].value(st[r])));
      if (valid) valid_fam.add(labels, *valid);
    }
    if (valid && *valid == 0) {
      invalid++;
      continue;
    }
    const auto droppable = rs.number(r, droppable_c);
    if (valid && droppable && st[r].numscans == 0 && *droppable != 0) unused++;
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
