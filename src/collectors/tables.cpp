// Per-table statistics: postgres_exporter's pg_stat_user_tables_* and
// pg_statio_user_tables_* families, with its names, types and labels.
//
// Why one query over the catalogs instead of the two views: the views each
// aggregate pg_index per table, and postgres_exporter adds pg_table_size() and
// pg_indexes_size() per row, which is seconds at 20,000 tables and waits on
// any table locked ACCESS EXCLUSIVE. Here pg_class is read once, pg_index is
// aggregated once (a hash join, linear in the number of indexes) for both the
// tables and their TOAST tables, and only pg_stat_get_* functions are called:
// they read the statistics, never the relations, so this collector takes no
// lock on any user relation. Sizes live in the relation_sizes collector.
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
// server settings, the PG18 cap autovacuum_vacuum_max_threshold); 1 = the
// trigger point. These are the two a PromQL query cannot compute.
#include <string>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

namespace {

constexpr auto C = prometheus::MetricType::Counter;
constexpr auto G = prometheus::MetricType::Gauge;

// A storage parameter from pg_class.reloptions as float8, or NULL when the
// table does not set it (the values are validated numbers; no comma inside).
std::string reloption(const char* name) {
  return std::string("(regexp_match(o, '(?:^|,)") + name + "=([^,]+)'))[1]::float8";
}

}  // namespace

std::string tables_sql(int server_version, const RelationFilter& f) {
  const bool pg18 = server_version >= 180000;
  // pg_stat_user_tables lists partitioned tables from PostgreSQL 14.
  const char* relkinds = server_version >= 140000 ? "('r', 'm', 'p')" : "('r', 'm')";
  std::string sql =
      "WITH " + relation_selection_ctes(f, server_version) +
      "idx AS ("
      "  SELECT indrelid, sum(pg_stat_get_numscans(indexrelid))::int8 AS scans,"
      "    sum(pg_stat_get_tuples_fetched(indexrelid))::int8 AS fetched,"
      "    sum(pg_stat_get_blocks_fetched(indexrelid) - pg_stat_get_blocks_hit(indexrelid))::int8 AS "
      "blks_read,"
      "    sum(pg_stat_get_blocks_hit(indexrelid))::int8 AS blks_hit"
      "  FROM pg_index GROUP BY indrelid"
      "), av AS ("
      "  SELECT current_setting('autovacuum_vacuum_threshold')::float8 AS vt,"
      "    current_setting('autovacuum_vacuum_scale_factor')::float8 AS vs,"
      "    current_setting('autovacuum_analyze_threshold')::float8 AS at,"
      "    current_setting('autovacuum_analyze_scale_factor')::float8 AS az";
  if (pg18) sql += ", current_setting('autovacuum_vacuum_max_threshold')::float8 AS vm";
  sql +=
      "), s AS ("
      "  SELECT n.nspname AS schemaname, c.relname, c.oid, c.relkind, c.reltoastrelid,"
      "    greatest(c.reltuples, 0)::float8 AS reltuples,"
      "    pg_stat_get_last_autovacuum_time(c.oid) AS last_autovacuum_time,"
      "    pg_stat_get_last_autoanalyze_time(c.oid) AS last_autoanalyze_time,"
      "    coalesce(ro.vt, av.vt) + coalesce(ro.vs, av.vs) * greatest(c.reltuples, 0) AS vac_threshold,"
      "    coalesce(ro.at, av.at) + coalesce(ro.az, av.az) * greatest(c.reltuples, 0) AS anl_threshold";
  if (pg18) sql += ", coalesce(ro.vm, av.vm) AS vac_max_threshold";
  sql +=
      "  FROM pg_class c"
      "  JOIN pg_namespace n ON n.oid = c.relnamespace"
      "  CROSS JOIN av"
      "  LEFT JOIN LATERAL (SELECT " +
      reloption("autovacuum_vacuum_threshold") + " AS vt, " + reloption("autovacuum_vacuum_scale_factor") +
      " AS vs, " + reloption("autovacuum_analyze_threshold") + " AS at, " +
      reloption("autovacuum_analyze_scale_factor") + " AS az" +
      (pg18 ? ", " + reloption("autovacuum_vacuum_max_threshold") + " AS vm" : std::string()) +
      "    FROM array_to_string(c.reloptions, ',') AS o) ro ON c.reloptions IS NOT NULL"
      "  WHERE c.relkind IN " +
      relkinds +
      " AND c.relpersistence <> 't'"
      "    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgexporter')"
      "    AND n.nspname !~ '^pg_toast'" +
      relation_selected(f, "c.oid") +
      ") "
      "SELECT current_database() AS datname, s.schemaname, s.relname,"
      "  pg_stat_get_numscans(s.oid) AS seq_scan,"
      "  pg_stat_get_tuples_returned(s.oid) AS seq_tup_read,"
      "  i.scans AS idx_scan,"
      "  i.fetched + pg_stat_get_tuples_fetched(s.oid) AS idx_tup_fetch,"
      "  pg_stat_get_tuples_inserted(s.oid) AS n_tup_ins,"
      "  pg_stat_get_tuples_updated(s.oid) AS n_tup_upd,"
      "  pg_stat_get_tuples_deleted(s.oid) AS n_tup_del,"
      "  pg_stat_get_tuples_hot_updated(s.oid) AS n_tup_hot_upd,"
      "  pg_stat_get_live_tuples(s.oid) AS n_live_tup,"
      "  pg_stat_get_dead_tuples(s.oid) AS n_dead_tup,"
      "  pg_stat_get_mod_since_analyze(s.oid) AS n_mod_since_analyze,"
      "  extract(epoch FROM pg_stat_get_last_vacuum_time(s.oid)) AS last_vacuum,"
      "  extract(epoch FROM s.last_autovacuum_time) AS last_autovacuum,"
      "  extract(epoch FROM pg_stat_get_last_analyze_time(s.oid)) AS last_analyze,"
      "  extract(epoch FROM s.last_autoanalyze_time) AS last_autoanalyze,"
      "  pg_stat_get_vacuum_count(s.oid) AS vacuum_count,"
      "  pg_stat_get_autovacuum_count(s.oid) AS autovacuum_count,"
      "  pg_stat_get_analyze_count(s.oid) AS analyze_count,"
      "  pg_stat_get_autoanalyze_count(s.oid) AS autoanalyze_count,"
      // greatest() ignores NULLs: guard it, or "never" would read as 0 seconds ago.
      "  CASE WHEN s.last_autovacuum_time IS NOT NULL"
      "    THEN greatest(0, extract(epoch FROM now() - s.last_autovacuum_time)) END"
      "    AS last_autovacuum_seconds_ago,"
      "  CASE WHEN s.last_autoanalyze_time IS NOT NULL"
      "    THEN greatest(0, extract(epoch FROM now() - s.last_autoanalyze_time)) END"
      "    AS last_autoanalyze_seconds_ago,"
      // Autovacuum never processes partitioned tables: no ratio for them.
      "  CASE WHEN s.relkind <> 'p' THEN pg_stat_get_dead_tuples(s.oid) / nullif(";
  sql += pg18 ? "CASE WHEN s.vac_max_threshold >= 0 THEN least(s.vac_threshold, s.vac_max_threshold)"
                " ELSE s.vac_threshold END"
              : "s.vac_threshold";
  sql +=
      ", 0) END AS autovacuum_threshold_ratio,"
      "  CASE WHEN s.relkind <> 'p' THEN pg_stat_get_mod_since_analyze(s.oid) / nullif(s.anl_threshold, 0) "
      "END"
      "    AS autoanalyze_threshold_ratio,"
      // pg_statio_user_tables: no rows for partitioned tables.
      "  CASE WHEN s.relkind <> 'p' THEN pg_stat_get_blocks_fetched(s.oid) - pg_stat_get_blocks_hit(s.oid) "
      "END"
      "    AS heap_blks_read,"
      "  CASE WHEN s.relkind <> 'p' THEN pg_stat_get_blocks_hit(s.oid) END AS heap_blks_hit,"
      "  CASE WHEN s.relkind <> 'p' THEN i.blks_read END AS idx_blks_read,"
      "  CASE WHEN s.relkind <> 'p' THEN i.blks_hit END AS idx_blks_hit,"
      "  CASE WHEN s.reltoastrelid <> 0"
      "    THEN pg_stat_get_blocks_fetched(s.reltoastrelid) - pg_stat_get_blocks_hit(s.reltoastrelid) END"
      "    AS toast_blks_read,"
      "  CASE WHEN s.reltoastrelid <> 0 THEN pg_stat_get_blocks_hit(s.reltoastrelid) END AS toast_blks_hit,"
      "  t.blks_read AS tidx_blks_read,"
      "  t.blks_hit AS tidx_blks_hit "
      "FROM s"
      " LEFT JOIN idx i ON i.indrelid = s.oid"
      " LEFT JOIN idx t ON t.indrelid = s.reltoastrelid AND s.reltoastrelid <> 0";
  return sql;
}

namespace {

// How many tables have per-table series, and how many the relations_*
// settings left out, by reason (0 when none is set).
void emit_selection(const Context& ctx, size_t exported, metrics::Sink& out) {
  double dropped[3] = {0, 0, 0};
  static const char* const kReasons[3] = {"pattern", "min_size", "limit"};
  if (ctx.relations.active()) {
    pgx::ResultSet rs = ctx.query(relation_dropped_sql(ctx.relations, ctx.server_version).c_str());
    const size_t reason_c = rs.require("reason"), count_c = rs.require("relations");
    for (size_t r = 0; r < rs.rows(); r++) {
      for (int k = 0; k < 3; k++) {
        if (rs.text(r, reason_c) == kReasons[k]) dropped[k] = rs.number(r, count_c).value_or(0);
      }
    }
  }
  out.gauge("pg_exporter_relations_exported",
            "Tables with per-table series (tables, indexes, relation_sizes collectors) in this scrape.")
      .add({{"datname", ctx.database}}, static_cast<double>(exported));
  metrics::Family f = out.gauge("pg_exporter_relations_dropped",
                                "Tables left out of the per-table series by the pg_exporter.relations_* "
                                "settings, by reason (pattern, min_size, limit).");
  for (int k = 0; k < 3; k++) f.add({{"datname", ctx.database}, {"reason", kReasons[k]}}, dropped[k]);
}

void collect_tables(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(tables_sql(ctx.server_version, ctx.relations).c_str());
  emit_selection(ctx, rs.rows(), out);
  emit_rows(
      rs, out, {"datname", "schemaname", "relname"},
      {
          {"seq_scan", "pg_stat_user_tables_seq_scan", C,
           "Number of sequential scans initiated on this table."},
          {"seq_tup_read", "pg_stat_user_tables_seq_tup_read", C,
           "Number of live rows fetched by sequential scans."},
          {"idx_scan", "pg_stat_user_tables_idx_scan", C, "Number of index scans initiated on this table."},
          {"idx_tup_fetch", "pg_stat_user_tables_idx_tup_fetch", C,
           "Number of live rows fetched by index scans."},
          {"n_tup_ins", "pg_stat_user_tables_n_tup_ins", C, "Number of rows inserted."},
          {"n_tup_upd", "pg_stat_user_tables_n_tup_upd", C, "Number of rows updated."},
          {"n_tup_del", "pg_stat_user_tables_n_tup_del", C, "Number of rows deleted."},
          {"n_tup_hot_upd", "pg_stat_user_tables_n_tup_hot_upd", C,
           "Number of rows HOT updated (no separate index update required)."},
          {"n_live_tup", "pg_stat_user_tables_n_live_tup", G, "Estimated number of live rows."},
          {"n_dead_tup", "pg_stat_user_tables_n_dead_tup", G, "Estimated number of dead rows."},
          {"n_mod_since_analyze", "pg_stat_user_tables_n_mod_since_analyze", G,
           "Estimated number of rows changed since the last analyze."},
          {"last_vacuum", "pg_stat_user_tables_last_vacuum", G,
           "Last time this table was manually vacuumed (not counting VACUUM FULL), in Unix seconds; absent "
           "if "
           "never."},
          {"last_autovacuum", "pg_stat_user_tables_last_autovacuum", G,
           "Last time this table was vacuumed by autovacuum, in Unix seconds; absent if never."},
          {"last_analyze", "pg_stat_user_tables_last_analyze", G,
           "Last time this table was manually analyzed, in Unix seconds; absent if never."},
          {"last_autoanalyze", "pg_stat_user_tables_last_autoanalyze", G,
           "Last time this table was analyzed by autovacuum, in Unix seconds; absent if never."},
          {"vacuum_count", "pg_stat_user_tables_vacuum_count", C,
           "Number of times this table has been manually vacuumed (not counting VACUUM FULL)."},
          {"autovacuum_count", "pg_stat_user_tables_autovacuum_count", C,
           "Number of times this table has been vacuumed by autovacuum."},
          {"analyze_count", "pg_stat_user_tables_analyze_count", C,
           "Number of times this table has been manually analyzed."},
          {"autoanalyze_count", "pg_stat_user_tables_autoanalyze_count", C,
           "Number of times this table has been analyzed by autovacuum."},
          {"last_autovacuum_seconds_ago", "pg_stat_user_tables_last_autovacuum_seconds_ago", G,
           "Seconds since this table was last vacuumed by autovacuum; absent if never."},
          {"last_autoanalyze_seconds_ago", "pg_stat_user_tables_last_autoanalyze_seconds_ago", G,
           "Seconds since this table was last analyzed by autovacuum; absent if never."},
          {"autovacuum_threshold_ratio", "pg_stat_user_tables_autovacuum_threshold_ratio", G,
           "Dead rows over the number that triggers autovacuum on this table (table settings, else server "
           "settings); above 1 autovacuum is due."},
          {"autoanalyze_threshold_ratio", "pg_stat_user_tables_autoanalyze_threshold_ratio", G,
           "Rows changed since analyze over the number that triggers autoanalyze on this table; above 1 "
           "autoanalyze is due."},
          {"heap_blks_read", "pg_statio_user_tables_heap_blocks_read", C,
           "Number of disk blocks read from this table."},
          {"heap_blks_hit", "pg_statio_user_tables_heap_blocks_hit", C,
           "Number of buffer hits in this table."},
          {"idx_blks_read", "pg_statio_user_tables_idx_blocks_read", C,
           "Number of disk blocks read from all indexes on this table."},
          {"idx_blks_hit", "pg_statio_user_tables_idx_blocks_hit", C,
           "Number of buffer hits in all indexes on this table."},
          {"toast_blks_read", "pg_statio_user_tables_toast_blocks_read", C,
           "Number of disk blocks read from this table's TOAST table."},
          {"toast_blks_hit", "pg_statio_user_tables_toast_blocks_hit", C,
           "Number of buffer hits in this table's TOAST table."},
          {"tidx_blks_read", "pg_statio_user_tables_tidx_blocks_read", C,
           "Number of disk blocks read from this table's TOAST table indexes."},
          {"tidx_blks_hit", "pg_statio_user_tables_tidx_blocks_hit", C,
           "Number of buffer hits in this table's TOAST table indexes."},
      });
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
