// Server identity: version, start time, recovery state.
// Names follow postgres_exporter (pg_static, pg_postmaster_start_time_seconds).
#include <string>

#include "collectors/collector.h"

namespace collectors {

namespace {

void collect_server(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet rs = ctx.query(
      "SELECT version() AS version, current_setting('server_version') AS server_version, "
      "extract(epoch FROM pg_postmaster_start_time()) AS start_time, "
      "extract(epoch FROM pg_conf_load_time()) AS conf_load_time");
  if (rs.rows() != 1) throw std::runtime_error("server query returned no row");
  int v = ctx.server_version;
  // postgres_exporter's short_version is semver: 15.4 -> 15.4.0.
  std::string short_version = std::to_string(v / 10000) + "." + std::to_string(v % 100) + ".0";
  out.gauge("pg_static", "Version string as reported by PostgreSQL; the value is always 1.")
      .add({{"version", rs.text(0, 0)}, {"short_version", short_version}}, 1);
  out.gauge("pg_version_info", "PostgreSQL version; the value is always 1.")
      .add({{"version", rs.text(0, 1)}, {"version_num", std::to_string(v)}, {"short_version", short_version}},
           1);
  if (auto t = rs.number(0, 2)) {
    out.gauge("pg_postmaster_start_time_seconds", "Time at which the postmaster started, in Unix seconds.")
        .add(*t);
  }
  if (auto t = rs.number(0, 3)) {
    out.gauge("pg_config_load_time_seconds",
              "Time at which the configuration was last loaded, in Unix seconds.")
        .add(*t);
  }
  out.gauge("pg_replication_is_replica", "Whether the server is a standby (in recovery): 1 = yes.")
      .add(ctx.in_recovery ? 1 : 0);
}

}  // namespace

extern const Collector server_collector = {
    "server",
    "Server version, postmaster start time, configuration load time, recovery state.",
    true,
    true,
    0,
    0,
    &collect_server};

}  // namespace collectors
