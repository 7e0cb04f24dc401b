// Numeric and boolean settings as pg_settings_<name>. Names, units and values
// follow postgres_exporter's pg_setting.go exactly, because alert rules compare
// these series (e.g. connections against pg_settings_max_connections):
// time units become seconds (+ "_seconds"), size units bytes (+ "_bytes"),
// and -1 ("disabled") is kept as -1, not scaled (it is a flag, not a quantity).
//
// pg_settings_pending_restart{name} is 1 for each setting changed in the
// configuration files that only takes effect after a restart. One series per
// such setting rather than a count, because the operator's next question is
// "which one?"; there are usually none, and never more than the settings.
// That name is reserved ahead of the loop so a custom setting that sanitises to
// it ("pending.restart") cannot mix its sample into this family.
//
// Values are pg_settings.reset_val: the configured value (file, ALTER SYSTEM,
// database and role settings, reloads included) without the scraping
// session's own SETs. The worker's session runs with lock_timeout =
// pg_exporter.lock_timeout and read-only transactions; `setting` would export
// those as the server's (pg_settings_default_transaction_read_only 1 on a
// writable server). reset_val is in the same unit as setting.
#include <set>
#include <string>

#include "collectors/collector.h"

namespace collectors {

namespace {

struct Unit {
  const char* unit;
  double factor;
  bool seconds;  // false: bytes
};

constexpr double kKiB = 1024.0;
constexpr double kMiB = 1024.0 * 1024;
constexpr double kGiB = kMiB * 1024;
constexpr double kTiB = kGiB * 1024;

constexpr Unit kUnits[] = {
    {"ms", 0.001, true},        {"s", 1, true},
    {"min", 60, true},          {"h", 3600, true},
    {"d", 86400, true},         {"B", 1, false},
    {"kB", kKiB, false},        {"MB", kMiB, false},
    {"GB", kGiB, false},        {"TB", kTiB, false},
    {"1kB", kKiB, false},       {"2kB", 2 * kKiB, false},
    {"4kB", 4 * kKiB, false},   {"8kB", 8 * kKiB, false},
    {"16kB", 16 * kKiB, false}, {"32kB", 32 * kKiB, false},
    {"64kB", 64 * kKiB, false}, {"16MB", 16 * kMiB, false},
    {"32MB", 32 * kMiB, false}, {"64MB", 64 * kMiB, false},
};

const Unit* find_unit(std::string_view unit) {
  for (const Unit& u : kUnits) {
    if (unit == u.unit) return &u;
  }
  return nullptr;
}

constexpr const char* kPendingRestart = "pg_settings_pending_restart";

void render_settings(const Context& ctx, metrics::Sink& out) {
  // One pass over pg_settings (it materialises every setting): the numeric
  // and boolean ones for their values, any type for pending_restart. Both
  // change only with a reload: the worker reads them once per reload.
  std::shared_ptr<const pgx::ResultSet> kept = ctx.query_until_reload(
      "SELECT name, reset_val AS setting, coalesce(unit, '') AS unit, short_desc, "
      "vartype IN ('bool', 'integer', 'real') "
      "AS numeric, pending_restart FROM pg_settings ORDER BY name");
  const pgx::ResultSet& rs = *kept;
  const size_t name_c = rs.require("name"), setting_c = rs.require("setting"), unit_c = rs.require("unit"),
               desc_c = rs.require("short_desc"), numeric_c = rs.require("numeric"),
               pending_c = rs.require("pending_restart");
  metrics::Family restart =
      out.gauge(kPendingRestart,
                "Settings changed in the configuration files that need a server restart (1 = pending).");
  for (size_t r = 0; r < rs.rows(); r++) {
    if (rs.number(r, pending_c).value_or(0) != 0) restart.add({{"name", rs.text(r, name_c)}}, 1);
  }
  // Two settings sanitising to one name: keep the first.
  std::set<std::string> seen{kPendingRestart};
  for (size_t r = 0; r < rs.rows(); r++) {
    if (rs.number(r, numeric_c).value_or(0) == 0) continue;
    // Booleans come as on/off and parse to 1/0; unparsable values are skipped.
    std::optional<double> value = rs.number(r, setting_c);
    if (!value) continue;
    std::string_view unit_text = rs.text(r, unit_c);
    std::string_view name = rs.text(r, name_c);
    std::string metric = "pg_settings_" + metrics::sanitize_name(name);
    std::string help = "Server Parameter: " + std::string(name);
    double v = *value;
    if (!unit_text.empty()) {
      const Unit* u = find_unit(unit_text);
      if (u == nullptr) continue;  // unknown unit: a wrong name would be worse than none
      metric += u->seconds ? "_seconds" : "_bytes";
      help += u->seconds ? " [Units converted to seconds.]" : " [Units converted to bytes.]";
      if (v != -1) v *= u->factor;
    }
    if (!seen.insert(metric).second) continue;
    help += " ";
    help += rs.text(r, desc_c);
    out.gauge(metric, help).add(v);
  }
}

// Rendered once per reload too: 300 families' names, units and help.
void collect_settings(const Context& ctx, metrics::Sink& out) {
  ctx.render_until_reload("settings", out, [&ctx](metrics::Sink& fresh) { render_settings(ctx, fresh); });
}

}  // namespace

extern const Collector settings_collector = {
    "settings",
    "Numeric and boolean server settings (pg_settings), units converted to seconds or bytes.",
    true,
    true,
    0,
    0,
    &collect_settings};

}  // namespace collectors
