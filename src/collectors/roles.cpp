// postgres_exporter's pg_roles_connection_limit{rolname}. postgres_exporter
// exports every role; a connection limit only applies to roles that can log
// in (PostgreSQL ignores it otherwise), so NOLOGIN group and predefined pg_*
// roles are left out. Role names are free text and a cluster may hold many:
// at most kMaxRoles roles, those with a limit first (the ones worth watching),
// then by name, so the cut is deterministic.
#include <string>

#include "collectors/collector.h"

namespace collectors {

namespace {

constexpr int kMaxRoles = 1000;

void collect_roles(const Context& ctx, metrics::Sink& out) {
  std::string sql =
      "SELECT rolname::text AS rolname, rolconnlimit FROM pg_roles WHERE rolcanlogin "
      "ORDER BY rolconnlimit = -1, rolname LIMIT " +
      std::to_string(kMaxRoles);
  emit_rows(ctx.query(sql.c_str()), out, {"rolname"},
            {{"rolconnlimit", "pg_roles_connection_limit", prometheus::MetricType::Gauge,
              "Connection limit of the login role (-1 = no limit)."}});
}

}  // namespace

extern const Collector roles_collector = {
    "roles", "Connection limit of each login role (pg_roles).", true, true, 0, 0, &collect_roles};

}  // namespace collectors
