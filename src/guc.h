// The pg_exporter.* settings. Defined in guc.cpp (PostgreSQL side); read here
// as plain values by pure C++ code. Every check hook validates at SET/reload
// time so a bad value never reaches a scrape.
#pragma once

namespace guc {

extern char* listen_addresses;
extern int port;
extern char* database;
extern char* role;
extern char* collectors;
extern int statement_timeout_ms;
extern int lock_timeout_ms;
extern int scrape_timeout_ms;
extern int cache_ttl_ms;
extern int size_ttl_ms;  // 0: sizes read on every scrape
extern int max_clients;
extern int client_timeout_ms;
extern int statements_limit;
extern int statements_query_length;
extern char* relations_include;
extern char* relations_exclude;
extern int relations_min_size_kb;
extern int spool_keep_free_mb;  // -1: never spool
extern int relations_limit;
extern bool superuser_metrics;
extern char* web_config_file;   // "" : plain HTTP, no authentication
extern char* allowed_hosts;     // "" : any Host header
extern char* allowed_networks;  // "" : any peer

// Settings that guard access (where the endpoint listens, whose privileges
// the worker has): a value in the configuration files that their checks
// refuse makes the worker fail closed instead of using a substitute.
extern const char* const kAccessSettings[];
extern const int kAccessSettingsCount;

// Registers every setting; called from _PG_init.
void define_all();

// Pure validators, shared by the check hooks and the unit tests.
bool valid_listen_addresses(const char* value, const char** why);

}  // namespace guc
