// Per-table statistics: postgres_exporter's pg_stat_user_tables_* and
// pg_statio_user_tables_* families, with its names, types and labels.
//
// Why not the two views: they each aggregate pg_index per table, and
// postgres_exporter adds pg_table_size() and pg_indexes_size() per row, which
// is seconds at 20,000 tables and waits on any table locked ACCESS EXCLUSIVE.
// Here pg_class (names, TOAST table, reltuples and storage parameters) and
// pg_index (which indexes belong to which table) are read once per scrape
// for all per-table collectors (relation_catalog.h), and the
// statistics come from the server's C API, one lookup per relation
// (pg/relation_stats.h) where the views make one pg_stat_get_* call per
// column. Nothing opens a relation, so this collector takes no lock on any
// user relation. Sizes live in the relation_sizes collector.
//
// Values follow the views exactly (checked against them): idx_scan and
// idx_tup_fetch are absent for a table with no index (the views' NULL),
// toast_* and tidx_* are absent when there is no TOAST table, statio series
// are absent for partitioned tables (pg_statio_user_tables has none). Unlike
// postgres_exporter, a maintenance that never happened has no last_* sample
// instead of 0 (1970). Temporary tables are left out: they are session-private
// and short-lived, and each would be a new series in Prometheus.
//
// Added from the Rust crate (its names): seconds since the last autovacuum /
// autoanalyze (absent when never, unlike that crate's 0), and how close each
// table is to its autovacuum / autoanalyze trigger, computed the way
// autovacuum does (pg_class.reltuples, per-table storage parameters over the
// server settings, the PG18 cap autovacuum_vacuum_max_threshold:
// autovacuum_threshold.h); 1 = the trigger point. These are the two a PromQL
// query cannot compute.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "collectors/autovacuum_threshold.h"
#include "collectors/collector.h"

namespace collectors {

namespace {

constexpr auto C = prometheus::MetricType::Counter;
constexpr auto G = prometheus::MetricType::Gauge;

// The families, in output order; each value is computed from the statistics
// below (NaN = absent, as the views' NULL).
enum Field {
  kSeqScan,
  kSeqTupRead,
  kIdxScan,
  kIdxTupFetch,
  kInserted,
  kUpdated,
  kDeleted,
  kHotUpdated,
  kLive,
  kDead,
  kModSinceAnalyze,
  kLastVacuum,
  kLastAutovacuum,
  kLastAnalyze,
  kLastAutoanalyze,
  kVacuumCount,
  kAutovacuumCount,
  kAnalyzeCount,
  kAutoanalyzeCount,
  kAutovacuumAgo,
  kAutoanalyzeAgo,
  kAutovacuumRatio,
  kAutoanalyzeRatio,
  kHeapRead,
  kHeapHit,
  kIdxRead,
  kIdxHit,
  kToastRead,
  kToastHit,
  kTidxRead,
  kTidxHit,
  kFieldCount
};

struct FamilyDef {
  const char* name;
  prometheus::MetricType type;
  const char* help;
};

const FamilyDef kFamilies[kFieldCount] = {
    {"pg_stat_user_tables_seq_scan", C, "Number of sequential scans initiated on this table."},
    {"pg_stat_user_tables_seq_tup_read", C, "Number of live rows fetched by sequential scans."},
    {"pg_stat_user_tables_idx_scan", C, "Number of index scans initiated on this table."},
    {"pg_stat_user_tables_idx_tup_fetch", C, "Number of live rows fetched by index scans."},
    {"pg_stat_user_tables_n_tup_ins", C, "Number of rows inserted."},
    {"pg_stat_user_tables_n_tup_upd", C, "Number of rows updated."},
    {"pg_stat_user_tables_n_tup_del", C, "Number of rows deleted."},
    {"pg_stat_user_tables_n_tup_hot_upd", C,
     "Number of rows HOT updated (no separate index update required)."},
    {"pg_stat_user_tables_n_live_tup", G, "Estimated number of live rows."},
    {"pg_stat_user_tables_n_dead_tup", G, "Estimated number of dead rows."},
    {"pg_stat_user_tables_n_mod_since_analyze", G,
     "Estimated number of rows changed since the last analyze."},
    {"pg_stat_user_tables_last_vacuum", G,
     "Last time this table was manually vacuumed (not counting VACUUM FULL), in Unix seconds; absent if "
     "never."},
    {"pg_stat_user_tables_last_autovacuum", G,
     "Last time this table was vacuumed by autovacuum, in Unix seconds; absent if never."},
    {"pg_stat_user_tables_last_analyze", G,
     "Last time this table was manually analyzed, in Unix seconds; absent if never."},
    {"pg_stat_user_tables_last_autoanalyze", G,
     "Last time this table was analyzed by autovacuum, in Unix seconds; absent if never."},
    {"pg_stat_user_tables_vacuum_count", C,
     "Number of times this table has been manually vacuumed (not counting VACUUM FULL)."},
    {"pg_stat_user_tables_autovacuum_count", C,
     "Number of times this table has been vacuumed by autovacuum."},
    {"pg_stat_user_tables_analyze_count", C, "Number of times this table has been manually analyzed."},
    {"pg_stat_user_tables_autoanalyze_count", C,
     "Number of times this table has been analyzed by autovacuum."},
    {"pg_stat_user_tables_last_autovacuum_seconds_ago", G,
     "Seconds since this table was last vacuumed by autovacuum; absent if never."},
    {"pg_stat_user_tables_last_autoanalyze_seconds_ago", G,
     "Seconds since this table was last analyzed by autovacuum; absent if never."},
    {"pg_stat_user_tables_autovacuum_threshold_ratio", G,
     "Dead rows over the number that triggers autovacuum on this table (table settings, else server "
     "settings); above 1 autovacuum is due."},
    {"pg_stat_user_tables_autoanalyze_threshold_ratio", G,
     "Rows changed since analyze over the number that triggers autoanalyze on this table; above 1 "
     "autoanalyze is due."},
    {"pg_statio_user_tables_heap_blocks_read", C, "Number of disk blocks read from this table."},
    {"pg_statio_user_tables_heap_blocks_hit", C, "Number of buffer hits in this table."},
    {"pg_statio_user_tables_idx_blocks_read", C,
     "Number of disk blocks read from all indexes on this table."},
    {"pg_statio_user_tables_idx_blocks_hit", C, "Number of buffer hits in all indexes on this table."},
    {"pg_statio_user_tables_toast_blocks_read", C,
     "Number of disk blocks read from this table's TOAST table."},
    {"pg_statio_user_tables_toast_blocks_hit", C, "Number of buffer hits in this table's TOAST table."},
    {"pg_statio_user_tables_tidx_blocks_read", C,
     "Number of disk blocks read from this table's TOAST table indexes."},
    {"pg_statio_user_tables_tidx_blocks_hit", C,
     "Number of buffer hits in this table's TOAST table indexes."},
};

// Sums over the counters of some indexes (positions in index_facts); NaN
// when there are none (the views' sum() over no rows).
template <typename Fn>
double sum_over(const std::vector<pgx::AccessCounters>& c, const uint32_t* first, const uint32_t* last,
                Fn fn) {
  if (first == last) return NAN;
  double total = 0;
  for (const uint32_t* p = first; p != last; ++p) total += static_cast<double>(fn(c[*p]));
  return total;
}

double ratio(double num, std::optional<double> den) {
  if (!den || *den == 0) return NAN;
  return num / *den;
}

// How many tables have per-table series, and how many the relations_*
// settings left out, by reason (0 when none is set).
void emit_selection(const Context& ctx, size_t exported, metrics::Sink& out) {
  const RelationSelection& sel = ctx.relation_selection();
  out.gauge("pg_exporter_relations_exported",
            "Tables with per-table series (tables, indexes, relation_sizes collectors) in this scrape.")
      .add({{"datname", ctx.database}}, static_cast<double>(exported));
  metrics::Family f = out.gauge("pg_exporter_relations_dropped",
                                "Tables left out of the per-table series by the pg_exporter.relations_* "
                                "settings, by reason (pattern, min_size, limit).");
  for (int k = 0; k < 3; k++) {
    f.add({{"datname", ctx.database}, {"reason", RelationSelection::kReasons[k]}}, sel.dropped[k]);
  }
}

AutovacuumSettings read_autovacuum_settings(const pgx::ResultSet& rs) {
  if (rs.rows() != 1) throw std::runtime_error("autovacuum settings query returned no row");
  auto value = [&](const char* column) {
    std::optional<double> v = rs.number(0, rs.require(column));
    if (!v) throw std::runtime_error(std::string("autovacuum setting ") + column + " is not a number");
    return *v;
  };
  AutovacuumSettings s;
  s.vacuum_threshold = value("vacuum_threshold");
  s.vacuum_scale_factor = value("vacuum_scale_factor");
  s.analyze_threshold = value("analyze_threshold");
  s.analyze_scale_factor = value("analyze_scale_factor");
  if (rs.column("vacuum_max_threshold") >= 0) s.vacuum_max_threshold = value("vacuum_max_threshold");
  return s;
}

void collect_tables(const Context& ctx, metrics::Sink& out) {
  const pgx::ResultSet settings_rs = ctx.query(autovacuum_settings_sql(ctx.server_version).c_str());
  const AutovacuumSettings settings = read_autovacuum_settings(settings_rs);
  const double now = settings_rs.number(0, settings_rs.require("now")).value_or(NAN);
  const RelationCatalog& cat = ctx.relation_catalog();
  const pgx::ResultSet& rs = cat.classes;
  // The rows of the tables the relations_* settings keep.
  const RelationSelection& selection = ctx.relation_selection();
  std::vector<size_t> rows;
  for (size_t r = 0; r < rs.rows(); r++) {
    if (cat.is_table(r) && selection.keeps(cat.oid(r))) rows.push_back(r);
  }
  emit_selection(ctx, rows.size(), out);
  const std::string_view datname = ctx.database;

  std::vector<metrics::Family> fams;
  // Labels are about as long as the three names plus the label syntax.
  const size_t label_bytes = rows.empty() ? 0
                                          : datname.size() + rs.text(rows[0], cat.schema_c).size() +
                                                rs.text(rows[0], cat.rel_c).size() + 40;
  out.reserve_label_sets(rows.size(), label_bytes);
  for (const FamilyDef& d : kFamilies) {
    fams.push_back(out.family(d.name, d.help, d.type));
    fams.back().reserve(rows.size());
  }

  // One pass over the statistics: all of them for the tables, the access
  // counters of their TOAST tables and of every index of the catalog (those
  // are kept for the indexes and relation_sizes collectors).
  const size_t n_index = cat.index_facts.size();
  // Relations are looked up by their catalog row.
  pgx::StatsRequest request(cat.row_of, cat.facts.size(), rows.size(), n_index + rows.size());
  for (size_t i = 0; i < rows.size(); i++) {
    request.want_full(static_cast<uint32_t>(rows[i]), i);
    request.want_counters(cat.facts[rows[i]].toast_row, n_index + i);
  }
  for (size_t p = 0; p < n_index; p++) request.want_counters(cat.index_facts[p].index_row, p);
  ctx.scan_relation_stats(request);
  const std::vector<pgx::AccessCounters>& counters = ctx.remember_index_counters(std::move(request.counters));

  for (size_t i = 0; i < rows.size(); i++) {
    const size_t r = rows[i];
    const uint32_t toast = cat.facts[r].toast_oid;
    const bool has_toast = toast != 0;
    const auto [ix_first, ix_last] = cat.indexes_of_row(r);
    const uint32_t toast_row = cat.facts[r].toast_row;
    const auto [tix_first, tix_last] = !has_toast
                                           ? std::pair<const uint32_t*, const uint32_t*>{nullptr, nullptr}
                                       : toast_row != RelationCatalog::kNoRow ? cat.indexes_of_row(toast_row)
                                                                              : cat.indexes_of(toast);
    const pgx::RelationStats& t = request.full[i];
    const pgx::AccessCounters& ts = counters[n_index + i];
    // Autovacuum never processes partitioned tables: no thresholds for them,
    // and pg_statio_user_tables has no row for them.
    const bool partitioned = cat.facts[r].kind == 'p';
    double v[kFieldCount];
    v[kSeqScan] = static_cast<double>(t.numscans);
    v[kSeqTupRead] = static_cast<double>(t.tuples_returned);
    v[kIdxScan] =
        sum_over(counters, ix_first, ix_last, [](const pgx::AccessCounters& s) { return s.numscans; });
    v[kIdxTupFetch] =
        sum_over(counters, ix_first, ix_last, [](const pgx::AccessCounters& s) { return s.tuples_fetched; }) +
        static_cast<double>(t.tuples_fetched);
    v[kInserted] = static_cast<double>(t.tuples_inserted);
    v[kUpdated] = static_cast<double>(t.tuples_updated);
    v[kDeleted] = static_cast<double>(t.tuples_deleted);
    v[kHotUpdated] = static_cast<double>(t.tuples_hot_updated);
    v[kLive] = static_cast<double>(t.live_tuples);
    v[kDead] = static_cast<double>(t.dead_tuples);
    v[kModSinceAnalyze] = static_cast<double>(t.mod_since_analyze);
    v[kLastVacuum] = t.last_vacuum;
    v[kLastAutovacuum] = t.last_autovacuum;
    v[kLastAnalyze] = t.last_analyze;
    v[kLastAutoanalyze] = t.last_autoanalyze;
    v[kVacuumCount] = static_cast<double>(t.vacuum_count);
    v[kAutovacuumCount] = static_cast<double>(t.autovacuum_count);
    v[kAnalyzeCount] = static_cast<double>(t.analyze_count);
    v[kAutoanalyzeCount] = static_cast<double>(t.autoanalyze_count);
    v[kAutovacuumAgo] = std::max(0.0, now - t.last_autovacuum);  // NaN stays NaN: never
    v[kAutoanalyzeAgo] = std::max(0.0, now - t.last_autoanalyze);
    if (std::isnan(t.last_autovacuum)) v[kAutovacuumAgo] = NAN;
    if (std::isnan(t.last_autoanalyze)) v[kAutoanalyzeAgo] = NAN;
    v[kAutovacuumRatio] = v[kAutoanalyzeRatio] = NAN;
    if (std::optional<double> tuples = rs.number(r, cat.tuples_c); tuples && !partitioned) {
      const AutovacuumThresholds th = autovacuum_thresholds(settings, *tuples, rs.text(r, cat.options_c));
      v[kAutovacuumRatio] = ratio(static_cast<double>(t.dead_tuples), th.vacuum);
      v[kAutoanalyzeRatio] = ratio(static_cast<double>(t.mod_since_analyze), th.analyze);
    }
    v[kHeapRead] = partitioned ? NAN : static_cast<double>(t.blocks_fetched - t.blocks_hit);
    v[kHeapHit] = partitioned ? NAN : static_cast<double>(t.blocks_hit);
    v[kIdxRead] = partitioned ? NAN : sum_over(counters, ix_first, ix_last, [](const pgx::AccessCounters& s) {
      return s.blocks_fetched - s.blocks_hit;
    });
    v[kIdxHit] = partitioned ? NAN : sum_over(counters, ix_first, ix_last, [](const pgx::AccessCounters& s) {
      return s.blocks_hit;
    });
    v[kToastRead] = has_toast ? static_cast<double>(ts.blocks_fetched - ts.blocks_hit) : NAN;
    v[kToastHit] = has_toast ? static_cast<double>(ts.blocks_hit) : NAN;
    v[kTidxRead] =
        has_toast ? sum_over(counters, tix_first, tix_last,
                             [](const pgx::AccessCounters& s) { return s.blocks_fetched - s.blocks_hit; })
                  : NAN;
    v[kTidxHit] = has_toast ? sum_over(counters, tix_first, tix_last,
                                       [](const pgx::AccessCounters& s) { return s.blocks_hit; })
                            : NAN;

    const metrics::LabelSet labels{
        {"datname", datname}, {"schemaname", rs.text(r, cat.schema_c)}, {"relname", rs.text(r, cat.rel_c)}};
    for (int k = 0; k < kFieldCount; k++) {
      if (!std::isnan(v[k])) fams[k].add(labels, v[k]);
    }
  }
}

}  // namespace

extern const Collector tables_collector = {
    "tables",
    "Per-table access, tuple, vacuum/analyze and block I/O statistics (pg_stat_user_tables, "
    "pg_statio_user_tables); takes no lock on user tables.",
    true,
    true,
    0,
    0,
    &collect_tables};

}  // namespace collectors
