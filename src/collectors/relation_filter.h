// Which tables get per-table series (tables, indexes, relation_sizes): the
// pg_exporter.relations_* settings, evaluated by one query per scrape whose
// result the three collectors share, so they agree on one set and the
// ranking by activity runs once.
//
// A database with 20,000 tables is over half a million series with every
// table in; these settings keep Prometheus's load chosen, not accidental.
// With no setting in effect there is no query at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// The selection query: rows (oid, reason, relations), one per kept table
// (reason NULL), then one per reason ('pattern', 'min_size', 'limit') with
// the number of tables it left out. "" when the filter is not active.
std::string relation_selection_sql(const RelationFilter& f, int server_version);

// Its result, as the collectors use it.
struct RelationSelection {
  static constexpr const char* kReasons[3] = {"pattern", "min_size", "limit"};
  bool everything = true;         // no filter: every table is kept
  std::vector<uint32_t> kept;     // sorted oids
  double dropped[3] = {0, 0, 0};  // by kReasons
  bool keeps(uint32_t oid) const;
};

// Filled by the first collector of a scrape that needs it (Context).
struct RelationSelectionCache {
  std::optional<RelationSelection> value;
};

}  // namespace collectors
