#include "collectors/sessions.h"

#include "collectors/collector.h"

namespace collectors {

// Only the columns the collectors aggregate. pg_stat_get_activity() rather
// than the pg_stat_activity view: the same rows and joins, plus the TLS
// columns that pg_stat_ssl would read from a second call (roles through
// pg_roles, as pg_authid is not readable by every role the worker may use).
// No query text is copied out but an autovacuum worker's relation.
// pg_blocking_pids() takes every lock-manager partition lock, so it runs only
// for sessions already waiting on a heavyweight lock (CASE guards it; AND
// gives no evaluation-order guarantee).
namespace {

const char* const kSessionsSql =
    "SELECT d.datname, u.rolname AS usename, s.application_name, s.backend_type, s.state, s.wait_event_type, "
    "s.wait_event, "
    // Not greatest(0, ...): it would turn a NULL (no transaction) into 0.
    "extract(epoch FROM now() - s.query_start) AS query_age, "
    "extract(epoch FROM now() - s.state_change) AS state_age, "
    "extract(epoch FROM now() - s.xact_start) AS xact_age, "
    "extract(epoch FROM s.xact_start) AS xact_start, "
    "CASE WHEN s.wait_event_type = 'Lock' THEN cardinality(pg_blocking_pids(s.pid)) > 0 ELSE false END "
    "  AS blocked, "
    "s.pid = pg_backend_pid() AS self, "
    // "autovacuum: VACUUM ANALYZE public.t (to prevent wraparound)" -> "t".
    "CASE WHEN s.backend_type = 'autovacuum worker' AND s.query LIKE 'autovacuum:%' "
    "  THEN regexp_replace(split_part(s.query, '.', 2), ' \\(to prevent wraparound\\)$', '') END "
    "  AS autovacuum_relname, "
    // pg_stat_ssl's rows: client connections (client_port set).
    "s.ssl AND s.client_port IS NOT NULL AS ssl, s.sslversion AS ssl_version, s.sslcipher AS ssl_cipher "
    "FROM pg_stat_get_activity(NULL) s LEFT JOIN pg_database d ON d.oid = s.datid "
    "LEFT JOIN pg_roles u ON u.oid = s.usesysid";

// name sorts in byte order (collation "C").
const char* const kDatabasesSql = "SELECT datname FROM pg_database ORDER BY datname";

// A timestamp after the scrape's transaction start gives a negative age: 0.
std::optional<double> age(const pgx::ResultSet& rs, size_t r, size_t c) {
  std::optional<double> v = rs.number(r, c);
  if (v && *v < 0) v = 0;
  return v;
}

}  // namespace

Sessions make_sessions(const pgx::ResultSet& a, const pgx::ResultSet& d) {
  const size_t datname_c = a.require("datname"), usename_c = a.require("usename"),
               app_c = a.require("application_name"), type_c = a.require("backend_type"),
               state_c = a.require("state"), wtype_c = a.require("wait_event_type"),
               wevent_c = a.require("wait_event"), query_age_c = a.require("query_age"),
               state_age_c = a.require("state_age"), xact_age_c = a.require("xact_age"),
               xact_start_c = a.require("xact_start"), blocked_c = a.require("blocked"),
               self_c = a.require("self"), relname_c = a.require("autovacuum_relname"),
               ssl_c = a.require("ssl"), ssl_version_c = a.require("ssl_version"),
               ssl_cipher_c = a.require("ssl_cipher"), db_c = d.require("datname");
  Sessions s;
  s.rows.reserve(a.rows());
  for (size_t r = 0; r < a.rows(); r++) {
    Session x;
    x.datname = a.text(r, datname_c);
    x.usename = a.text(r, usename_c);
    x.application_name = a.text(r, app_c);
    x.backend_type = a.text(r, type_c);
    x.state = a.text(r, state_c);
    x.wait_event_type = a.text(r, wtype_c);
    x.wait_event = a.text(r, wevent_c);
    x.query_age = age(a, r, query_age_c);
    x.state_age = age(a, r, state_age_c);
    x.xact_age = age(a, r, xact_age_c);
    x.xact_start = a.number(r, xact_start_c);
    x.blocked = a.number(r, blocked_c).value_or(0) != 0;
    x.self = a.number(r, self_c).value_or(0) != 0;
    x.autovacuum_relname = a.text(r, relname_c);
    x.ssl = a.number(r, ssl_c).value_or(0) != 0;
    x.ssl_version = a.text(r, ssl_version_c);
    x.ssl_cipher = a.text(r, ssl_cipher_c);
    s.rows.push_back(std::move(x));
  }
  s.databases.reserve(d.rows());
  for (size_t r = 0; r < d.rows(); r++) s.databases.emplace_back(d.text(r, db_c));
  return s;
}

const Sessions& Context::sessions() const {
  if (!sessions_cache->value)
    sessions_cache->value = make_sessions(query(kSessionsSql), query(kDatabasesSql));
  return *sessions_cache->value;
}

}  // namespace collectors
