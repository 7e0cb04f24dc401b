// Numeric and boolean settings as pg_settings_<name>, with units normalised
// to seconds or bytes exactly as postgres_exporter's pg_setting.go does, so
// that alert rules comparing settings keep working.
#include <string>

#include "collectors/collector.h"

namespace collectors {

namespace {

struct Unit {
  const char* unit;
  double factor;
  const char* suffix;
};

constexpr Unit kUnits[] = {
    {"ms", 0.001, "_seconds"},        {"s", 1, "_seconds"},
    {"min", 60, "_seconds"},          {"h", 3600, "_seconds"},
    {"d", 86400, "_seconds"},         {"B", 1, "_bytes"},
    {"kB", 1024, "_bytes"},           {"MB", 1024.0 * 1024, "_bytes"},
    {"GB", 1024.0 * 1024 * 1024, "_bytes"}, {"TB", 1024.0 * 1024 * 1024 * 1024, "_bytes"},
    {"8kB", 8192, "_bytes"},          {"16kB", 16384, "_bytes"},
    {"32kB", 32768, "_bytes"},        {"16MB", 16.0 * 1024 * 1024, "_bytes"},
    {"32MB", 32.0 * 1024 * 1024, "_bytes"}, {"64MB", 64.0 * 1024 * 1024, "_bytes"},
};

void collect_settings(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(
      "SELECT name, setting, coalesce(unit, '') AS unit, short_desc, vartype FROM pg_settings "
      "WHERE vartype IN ('bool', 'integer', 'real') ORDER BY name");
  int name_c = rs.column("name"), setting_c = rs.column("setting"), unit_c = rs.column("unit"),
      desc_c = rs.column("short_desc");
  for (size_t r = 0; r < rs.rows(); r++) {
    auto value = rs.number(r, setting_c);
    if (!value) continue;
    std::string_view unit = rs.text(r, unit_c);
    double factor = 1;
    const char* suffix = "";
    const char* note = "";
    for (const Unit& u : kUnits) {
      if (unit == u.unit) {
        factor = u.factor;
        suffix = u.suffix;
        note = suffix[1] == 's' ? " [Units converted to seconds.]" : " [Units converted to bytes.]";
      }
    }
    std::string name(rs.text(r, name_c));
    std::string help = "Server Parameter: " + name + note + " " + std::string(rs.text(r, desc_c));
    out.gauge("pg_settings_" + metrics::sanitize_name(name) + suffix, help).add(*value * factor);
  }
}

}  // namespace

extern const Collector settings_collector = {
    "settings", "Numeric and boolean settings (pg_settings), in seconds and bytes.", true, true, 0, 0,
    &collect_settings};

}  // namespace collectors
