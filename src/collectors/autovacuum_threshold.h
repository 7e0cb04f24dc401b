// The number of dead rows (and of rows changed since analyze) at which
// autovacuum processes a table, computed as autovacuum.c does: per-table
// storage parameters over the server settings, pg_class.reltuples (negative,
// "never analyzed", counts as 0), and from PostgreSQL 18 the cap
// autovacuum_vacuum_max_threshold (-1 = none).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace collectors {

struct AutovacuumSettings {
  double vacuum_threshold = 50, vacuum_scale_factor = 0.2;
  double analyze_threshold = 50, analyze_scale_factor = 0.1;
  std::optional<double> vacuum_max_threshold;  // PostgreSQL 18+
};

// Reads `now` and the settings (the query of autovacuum_settings_sql).
std::string autovacuum_settings_sql(int server_version);

// A numeric storage parameter from pg_class.reloptions joined by commas
// ("fillfactor=70,autovacuum_vacuum_threshold=100"); nullopt when the table
// does not set it or its value is not a number.
std::optional<double> reloption_number(std::string_view options, std::string_view name);

struct AutovacuumThresholds {
  double vacuum, analyze;
};
AutovacuumThresholds autovacuum_thresholds(const AutovacuumSettings& server, double reltuples,
                                           std::string_view options);

}  // namespace collectors
