#include "collectors/autovacuum_threshold.h"

#include <algorithm>

#include "pg/result.h"

namespace collectors {

std::string autovacuum_settings_sql(int server_version) {
  std::string sql =
      "SELECT extract(epoch FROM now())::float8 AS now,"
      " current_setting('autovacuum_vacuum_threshold')::float8 AS vacuum_threshold,"
      " current_setting('autovacuum_vacuum_scale_factor')::float8 AS vacuum_scale_factor,"
      " current_setting('autovacuum_analyze_threshold')::float8 AS analyze_threshold,"
      " current_setting('autovacuum_analyze_scale_factor')::float8 AS analyze_scale_factor";
  if (server_version >= 180000) {
    sql += ", current_setting('autovacuum_vacuum_max_threshold')::float8 AS vacuum_max_threshold";
  }
  return sql;
}

std::optional<double> reloption_number(std::string_view options, std::string_view name) {
  // Values are validated by the server (numbers, booleans, enums): no comma
  // inside one.
  size_t at = 0;
  while (at <= options.size()) {
    size_t end = options.find(',', at);
    if (end == std::string_view::npos) end = options.size();
    std::string_view item = options.substr(at, end - at);
    if (item.size() > name.size() && item.compare(0, name.size(), name) == 0 && item[name.size()] == '=') {
      return pgx::parse_pg_number(item.substr(name.size() + 1));
    }
    at = end + 1;
  }
  return std::nullopt;
}

AutovacuumThresholds autovacuum_thresholds(const AutovacuumSettings& server, double reltuples,
                                           std::string_view options) {
  auto param = [&](const char* name, double fallback) {
    return options.empty() ? fallback : reloption_number(options, name).value_or(fallback);
  };
  const double tuples = std::max(reltuples, 0.0);
  double vacuum = param("autovacuum_vacuum_threshold", server.vacuum_threshold) +
                  param("autovacuum_vacuum_scale_factor", server.vacuum_scale_factor) * tuples;
  if (server.vacuum_max_threshold) {
    const double cap = param("autovacuum_vacuum_max_threshold", *server.vacuum_max_threshold);
    if (cap >= 0) vacuum = std::min(vacuum, cap);
  }
  const double analyze = param("autovacuum_analyze_threshold", server.analyze_threshold) +
                         param("autovacuum_analyze_scale_factor", server.analyze_scale_factor) * tuples;
  return {vacuum, analyze};
}

}  // namespace collectors
