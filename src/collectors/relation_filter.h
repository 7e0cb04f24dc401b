// Which tables get per-relation series (tables, indexes, relation_sizes):
// the pg_exporter.relations_* settings, turned into SQL that each of those
// collectors puts in its own query, so that the three agree on one set.
//
// A database with 20,000 tables is over half a million series with every
// table in; these settings keep Prometheus's load chosen, not accidental.
// With no setting in effect the SQL is empty and costs nothing.
#pragma once

#include <cstdint>
#include <string>

namespace collectors {

struct RelationFilter {
  std::string include;    // POSIX regex on "schema.table"; "" = every table
  std::string exclude;    // POSIX regex on "schema.table"; "" = none
  int64_t min_bytes = 0;  // smaller tables are left out (pg_class.relpages estimate)
  int64_t limit = 0;      // at most this many tables, most active first; 0 = no limit
  bool active() const { return !include.empty() || !exclude.empty() || min_bytes > 0 || limit > 0; }
};

// An E'...' literal: the same meaning whatever standard_conforming_strings is.
std::string sql_literal(const std::string& text);

// CTE items "rel_candidates AS (...), rel_selection AS (...), " to put after
// WITH (empty when the filter is not active). rel_selection(oid, dropped)
// has one row per user table; dropped is NULL for the tables that are kept,
// else 'pattern', 'min_size' or 'limit'.
std::string relation_selection_ctes(const RelationFilter& f, int server_version);
// " AND <oid_expr> IN (kept tables)" (empty when the filter is not active).
std::string relation_selected(const RelationFilter& f, const char* oid_expr);
// A boolean expression: whether the table <oid_expr> is kept ("true" when
// the filter is not active). For collectors that also count over all tables.
std::string relation_kept(const RelationFilter& f, const char* oid_expr);
// The tables left out, by reason: columns reason, relations.
std::string relation_dropped_sql(const RelationFilter& f, int server_version);

}  // namespace collectors
