#include "collectors/relation_filter.h"

#include <algorithm>

#include "collectors/collector.h"

namespace collectors {

std::string sql_literal(const std::string& text) {
  std::string out = "E'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out.push_back(c);
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string relation_selection_sql(const RelationFilter& f, int server_version) {
  if (!f.active()) return "";
  // The same tables as pg_stat_user_tables (partitioned ones from 14), minus
  // temporary tables and our own schema, as the per-table collectors read.
  const char* relkinds = server_version >= 140000 ? "('r', 'm', 'p')" : "('r', 'm')";
  const std::string name = "(n.nspname || '.' || c.relname)";
  std::string reason = "CASE";
  if (!f.include.empty()) reason += " WHEN NOT " + name + " ~ " + sql_literal(f.include) + " THEN 'pattern'";
  if (!f.exclude.empty()) reason += " WHEN " + name + " ~ " + sql_literal(f.exclude) + " THEN 'pattern'";
  if (f.min_bytes > 0) {
    reason += " WHEN greatest(c.relpages, 0)::float8 * current_setting('block_size')::float8 < " +
              std::to_string(f.min_bytes) + " THEN 'min_size'";
  }
  reason += " END";
  if (reason == "CASE END") reason = "NULL::text";
  // Activity: rows read (sequentially and through indexes) and written since
  // the statistics were reset. Cumulative, so the chosen set stays stable
  // from one scrape to the next instead of churning series.
  const std::string activity =
      f.limit > 0 ? "pg_stat_get_tuples_returned(c.oid) + pg_stat_get_tuples_fetched(c.oid) + "
                    "pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_tuples_updated(c.oid) + "
                    "pg_stat_get_tuples_deleted(c.oid)"
                  : "0";
  std::string sql = "WITH rel_candidates AS (SELECT c.oid, " + reason + " AS dropped, " + activity +
                    " AS activity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind IN " +
                    relkinds +
                    " AND c.relpersistence <> 't'"
                    " AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgexporter')"
                    " AND n.nspname !~ '^pg_toast'), ";
  if (f.limit > 0) {
    sql +=
        "rel_selection AS (SELECT oid, coalesce(dropped, CASE WHEN row_number() OVER ("
        "PARTITION BY dropped IS NULL ORDER BY activity DESC, oid) > " +
        std::to_string(f.limit) + " THEN 'limit' END) AS dropped FROM rel_candidates) ";
  } else {
    sql += "rel_selection AS (SELECT oid, dropped FROM rel_candidates) ";
  }
  sql +=
      "SELECT oid, NULL::text AS reason, NULL::int8 AS relations FROM rel_selection WHERE dropped IS NULL "
      "UNION ALL SELECT NULL, dropped, count(*) FROM rel_selection WHERE dropped IS NOT NULL GROUP BY "
      "dropped";
  return sql;
}

bool RelationSelection::keeps(uint32_t oid) const {
  return everything || std::binary_search(kept.begin(), kept.end(), oid);
}

const RelationSelection& Context::relation_selection() const {
  if (selection->value) return *selection->value;
  RelationSelection s;
  if (relations.active()) {
    s.everything = false;
    pgx::ResultSet rs = query(relation_selection_sql(relations, server_version).c_str());
    const size_t oid_c = rs.require("oid"), reason_c = rs.require("reason"),
                 count_c = rs.require("relations");
    for (size_t r = 0; r < rs.rows(); r++) {
      if (rs.is_null(r, reason_c)) {
        if (auto oid = rs.number(r, oid_c)) s.kept.push_back(static_cast<uint32_t>(*oid));
        continue;
      }
      for (int k = 0; k < 3; k++) {
        if (rs.text(r, reason_c) == RelationSelection::kReasons[k])
          s.dropped[k] = rs.number(r, count_c).value_or(0);
      }
    }
    std::sort(s.kept.begin(), s.kept.end());
  }
  selection->value = std::move(s);
  return *selection->value;
}

}  // namespace collectors
