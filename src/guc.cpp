#include "guc.h"

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "collectors/selection.h"
#include "http/access.h"

extern "C" {
#include "postgres.h"

#include "catalog/pg_collation_d.h"
#include "mb/pg_wchar.h"
#include "regex/regex.h"

#include "pg/compat/guc.h"
}

namespace guc {

char* listen_addresses = nullptr;
int port = 9187;
char* database = nullptr;
char* role = nullptr;
char* collectors = nullptr;
int statement_timeout_ms = 5000;
int lock_timeout_ms = 1000;
int scrape_timeout_ms = 10000;
int cache_ttl_ms = 1000;
int size_ttl_ms = 60000;
int max_clients = 16;
int client_timeout_ms = 10000;
int statements_limit = 100;
int statements_query_length = 0;
char* relations_include = nullptr;
char* relations_exclude = nullptr;
int relations_min_size_kb = 0;
int spool_keep_free_mb = 1024;
int relations_limit = 5000;
bool superuser_metrics = false;
char* web_config_file = nullptr;
char* allowed_hosts = nullptr;
char* allowed_networks = nullptr;

const char* const kAccessSettings[] = {
    "pg_exporter.listen_addresses", "pg_exporter.port",          "pg_exporter.role",
    "pg_exporter.web_config_file",  "pg_exporter.allowed_hosts", "pg_exporter.allowed_networks"};
const int kAccessSettingsCount = sizeof(kAccessSettings) / sizeof(kAccessSettings[0]);

bool valid_listen_addresses(const char* value, const char** why) {
  if (value == nullptr || value[0] == '\0') {
    *why = "the list is empty; use localhost, an IP address, a host name, or * for all interfaces";
    return false;
  }
  if (std::strlen(value) > 1024) {
    *why = "the list is longer than 1024 characters";
    return false;
  }
  for (const char* p = value; *p; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == ':' || c == '-' || c == '_' || c == '%' || c == '*' || c == ',' || c == ' ' || c == '[' ||
              c == ']';
    if (!ok) {
      *why = "only host names, IP addresses, * and commas are allowed";
      return false;
    }
  }
  return true;
}

namespace {

bool check_listen_addresses(char** newval, void**, GucSource) {
  const char* why = nullptr;
  if (!valid_listen_addresses(*newval, &why)) {
    GUC_check_errdetail("%s", why);
    return false;
  }
  return true;
}

bool check_database(char** newval, void**, GucSource) {
  if (*newval == nullptr || (*newval)[0] == '\0') {
    GUC_check_errdetail("The exporter needs a database to connect to.");
    return false;
  }
  if (strlen(*newval) >= NAMEDATALEN) {
    GUC_check_errdetail("A database name is at most %d bytes.", NAMEDATALEN - 1);
    return false;
  }
  return true;
}

bool check_role(char** newval, void**, GucSource) {
  if (*newval == nullptr || (*newval)[0] == '\0') {
    GUC_check_errdetail(
        "Name the role the exporter's queries run as; pg_monitor is all the built-in collectors need.");
    return false;
  }
  if (strlen(*newval) >= NAMEDATALEN) {
    GUC_check_errdetail("A role name is at most %d bytes.", NAMEDATALEN - 1);
    return false;
  }
  return true;
}

// A PostgreSQL entry point: nothing C++ may escape it.
// A relations pattern must compile as the regular expression the collectors'
// `~` will use (PostgreSQL's own engine), so that a typo is refused at reload
// instead of failing three collectors at every scrape. Plain C on purpose: the
// regex code may raise an ERROR, which must not cross C++ frames.
bool check_relations_pattern(char** newval, void**, GucSource) {
  const char* value = *newval ? *newval : "";
  const size_t len = strlen(value);
  if (len == 0) return true;
  if (len > 1024) {
    GUC_check_errdetail("the pattern is longer than 1024 characters");
    return false;
  }
  pg_wchar* wide = static_cast<pg_wchar*>(palloc((len + 1) * sizeof(pg_wchar)));
  const int wide_len = pg_mb2wchar_with_len(value, wide, static_cast<int>(len));
  regex_t re;
  const int rc = pg_regcomp(&re, wide, static_cast<size_t>(wide_len), REG_ADVANCED, C_COLLATION_OID);
  pfree(wide);
  if (rc != REG_OKAY) {
    char msg[256];
    pg_regerror(rc, &re, msg, sizeof msg);
    GUC_check_errdetail("invalid regular expression: %s", msg);
    return false;
  }
  pg_regfree(&re);
  return true;
}

// The file's contents are the worker's to judge (at start-up an invalid file
// keeps the endpoint closed; at a reload the previous configuration stays):
// here only the name.
bool check_web_config_file(char** newval, void**, GucSource) {
  const char* v = *newval ? *newval : "";
  if (strlen(v) > 1000) {
    GUC_check_errdetail("the file name is longer than 1000 characters");
    return false;
  }
  for (const char* p = v; *p; p++) {
    if (static_cast<unsigned char>(*p) < 0x20) {
      GUC_check_errdetail("the file name contains a control character");
      return false;
    }
  }
  return true;
}

// Both allow-lists are checked with the parsers the worker uses. C++ that
// may throw (bad_alloc) stays inside the try.
bool check_allow_list(char** newval, bool networks) {
  char detail[512];
  detail[0] = '\0';
  bool ok = false;
  try {
    std::string error;
    if (networks) {
      std::vector<http::Network> nets;
      ok = http::parse_networks(*newval ? *newval : "", &nets, &error);
    } else {
      std::vector<std::string> hosts;
      ok = http::parse_hosts(*newval ? *newval : "", &hosts, &error);
    }
    if (!ok) strlcpy(detail, error.c_str(), sizeof(detail));
  } catch (...) {
    strlcpy(detail, "could not parse the list (out of memory?)", sizeof(detail));
    ok = false;
  }
  if (!ok) GUC_check_errdetail("%s", detail);
  return ok;
}

bool check_allowed_hosts(char** newval, void**, GucSource) { return check_allow_list(newval, false); }
bool check_allowed_networks(char** newval, void**, GucSource) { return check_allow_list(newval, true); }

bool check_collectors(char** newval, void**, GucSource) {
  char detail[512];
  detail[0] = '\0';
  bool ok = false;
  try {
    std::vector<const collectors::Collector*> chosen;
    std::string error;
    ok = collectors::parse_selection(*newval ? *newval : "", &chosen, &error);
    if (!ok) strlcpy(detail, error.c_str(), sizeof(detail));
  } catch (...) {
    strlcpy(detail, "could not parse the collector list (out of memory?)", sizeof(detail));
    ok = false;
  }
  if (!ok) GUC_check_errdetail("%s", detail);
  return ok;
}

}  // namespace

void define_all() {
  DefineCustomStringVariable(
      "pg_exporter.listen_addresses",
      "Addresses the metrics endpoint listens on (comma-separated; * for all).",
      "The endpoint exposes database metadata: keep it on localhost unless the network is trusted.",
      &listen_addresses, "localhost", PGC_SIGHUP, 0, check_listen_addresses, nullptr, nullptr);
  DefineCustomIntVariable("pg_exporter.port", "TCP port of the metrics endpoint (0 picks a free port).",
                          nullptr, &port, 9187, 0, 65535, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("pg_exporter.database", "Database the exporter connects to for its queries.",
                             "Changing it restarts the exporter's worker.", &database, "postgres", PGC_SIGHUP,
                             0, check_database, nullptr, nullptr);
  DefineCustomStringVariable(
      "pg_exporter.role", "Role the exporter's built-in collectors run as.",
      "pg_monitor (the default) is all they need; the role need not be able to log in. Changing it restarts "
      "the worker.",
      &role, "pg_monitor", PGC_SIGHUP, 0, check_role, nullptr, nullptr);
  DefineCustomBoolVariable(
      "pg_exporter.superuser_metrics", "Whether custom metrics owned by a superuser run.",
      "Off: a superuser's query that reads objects other roles own would run their code as superuser.",
      &superuser_metrics, false, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("pg_exporter.collectors", "Collectors to run on each scrape.",
                             "Comma-separated names; \"default\" is the default set, \"all\" every "
                             "collector, and \"-name\" removes one.",
                             &collectors, "default", PGC_SIGHUP, GUC_LIST_INPUT, check_collectors, nullptr,
                             nullptr);
  DefineCustomIntVariable("pg_exporter.statement_timeout", "Statement timeout for each collector's queries.",
                          nullptr, &statement_timeout_ms, 5000, 1, 600000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
  DefineCustomIntVariable("pg_exporter.lock_timeout", "Lock timeout for the exporter's queries.", nullptr,
                          &lock_timeout_ms, 1000, 1, 600000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("pg_exporter.scrape_timeout", "Time budget of one whole scrape.",
                          "Lowered further by Prometheus's X-Prometheus-Scrape-Timeout-Seconds header. "
                          "Collectors that do not fit in the budget are skipped and reported as failed.",
                          &scrape_timeout_ms, 10000, 100, 600000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("pg_exporter.cache_ttl", "Scrapes within this time of the last one get its result.",
                          "Several Prometheus servers scraping at once then cost the database one scrape.",
                          &cache_ttl_ms, 1000, 0, 3600000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable(
      "pg_exporter.size_ttl",
      "Relation and database sizes are read again once they are this old (0: every scrape).",
      "Sizes come from stat() of every file of a database; counters and catalog facts stay exact per scrape.",
      &size_ttl_ms, 60000, 0, 3600000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("pg_exporter.max_clients", "Maximum concurrent HTTP connections.",
                          "At most a third of the server's file descriptor budget (max_files_per_process); "
                          "beyond this many, idle and stalled connections are closed for new ones, or a new "
                          "one gets a quick 503.",
                          &max_clients, 16, 1, 1000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable(
      "pg_exporter.web_config_file",
      "Web configuration file (the exporter-toolkit format of postgres_exporter's --web.config.file): TLS, "
      "basic authentication, response headers.",
      "Read at start-up and at each reload; certificate files are also watched for rotation. Empty: plain "
      "HTTP without authentication.",
      &web_config_file, "", PGC_SIGHUP, 0, check_web_config_file, nullptr, nullptr);
  DefineCustomStringVariable("pg_exporter.allowed_hosts",
                             "Host header values the endpoint answers (comma-separated; empty: any).",
                             "Against DNS rebinding: list the names Prometheus uses for this server.",
                             &allowed_hosts, "", PGC_SIGHUP, 0, check_allowed_hosts, nullptr, nullptr);
  DefineCustomStringVariable(
      "pg_exporter.allowed_networks",
      "Peer addresses or networks allowed to connect (comma-separated CIDRs; empty: any).", nullptr,
      &allowed_networks, "", PGC_SIGHUP, 0, check_allowed_networks, nullptr, nullptr);
  DefineCustomIntVariable("pg_exporter.client_timeout",
                          "Time an HTTP client has to send its request, and to read the response.",
                          "Idle keep-alive connections are closed after six times this.", &client_timeout_ms,
                          10000, 100, 600000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
  // Read by the statements collector through current_setting() in its own
  // query, so that collectors need no access to this file's variables.
  DefineCustomIntVariable(
      "pg_exporter.statements_limit",
      "How many statements (top by total execution time) the statements collector exports.",
      "Each statement is one series per pg_stat_statements_* family.", &statements_limit, 100, 1, 10000,
      PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "pg_exporter.statements_query_length",
      "Characters of query text exported as pg_stat_statements_query_id{queryid, query} (0: none).",
      "Off by default: query texts can hold secrets in literals and make one series per statement.",
      &statements_query_length, 0, 0, 4096, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  // Read by the scrape's first query (current_setting), like statements_limit.
  // SUSET: a superuser may try other values in a session with
  // pgexporter.metrics() before putting them in postgresql.conf.
  DefineCustomStringVariable(
      "pg_exporter.relations_include",
      "Regular expression on schema.table: only matching tables get per-table series (empty: all).",
      "Applies to the tables, indexes and relation_sizes collectors.", &relations_include, "", PGC_SUSET, 0,
      check_relations_pattern, nullptr, nullptr);
  DefineCustomStringVariable("pg_exporter.relations_exclude",
                             "Regular expression on schema.table: matching tables get no per-table series.",
                             "Applies to the tables, indexes and relation_sizes collectors.",
                             &relations_exclude, "", PGC_SUSET, 0, check_relations_pattern, nullptr, nullptr);
  DefineCustomIntVariable(
      "pg_exporter.relations_min_size", "Tables smaller than this get no per-table series (0: no minimum).",
      "The size is pg_class.relpages (kept by VACUUM and ANALYZE) times the block size.",
      &relations_min_size_kb, 0, 0, INT_MAX, PGC_SUSET, GUC_UNIT_KB, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "pg_exporter.relations_limit",
      "At most this many tables get per-table series, the most active first (0: no limit).",
      "Activity: rows read and written since the statistics were reset. The rest are counted in "
      "pg_exporter_relations_dropped{reason=\"limit\"}.",
      &relations_limit, 5000, 0, 10000000, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "pg_exporter.spool_keep_free",
      "A large scrape is written to a temporary file only while this much stays free on the data "
      "directory's file system (-1: never; the scrape is then kept in memory).",
      "The file takes at most half of the free space beyond this amount.", &spool_keep_free_mb, 1024, -1,
      INT_MAX, PGC_SIGHUP, GUC_UNIT_MB, nullptr, nullptr, nullptr);
  pgx_mark_guc_prefix_reserved("pg_exporter");
}

}  // namespace guc
