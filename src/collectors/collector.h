// The collector interface. A collector is one self-contained file that defines
// `extern const collectors::Collector <name>_collector = {...};` and one line
// `COLLECTOR(<name>)` in collectors/list.def.
//
// Collectors are pure C++: they read the database only through ctx.query()
// (guarded SPI), and emit samples into a metrics::Sink. They may throw
// (pgx::PgError, std::exception): the scrape drops everything that collector
// emitted, marks it failed, and goes on with the others.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/kept_reads.h"
#include "collectors/relation_catalog.h"
#include "collectors/relation_filter.h"
#include "collectors/sessions.h"
#include "datadir/directory_sizes.h"
#include "metrics/sink.h"
#include "pg/relation_stats.h"
#include "pg/result.h"

namespace collectors {

struct Context {
  int server_version = 0;  // server_version_num, e.g. 150004
  bool in_recovery = false;
  std::string database;      // the database the SQL runs in (current_database())
  RelationFilter relations;  // pg_exporter.relations_*, read by the probe
  // Data directory folders listed with their sizes once per scrape, shared by
  // the collectors that sum file sizes (relation_sizes, database).
  std::shared_ptr<datadir::DirectorySizes> files = std::make_shared<datadir::DirectorySizes>();
  // When the scrape began: what was read before it is as old as the
  // difference (kept sizes), what was read by it counts as 0 seconds old.
  datadir::DirectorySizes::Clock::time_point started = datadir::DirectorySizes::Clock::now();
  std::shared_ptr<RelationSelectionCache> selection = std::make_shared<RelationSelectionCache>();
  // The tables the relations_* settings keep, by one query run the first
  // time a collector of the scrape asks (throws like query()).
  const RelationSelection& relation_selection() const;
  std::shared_ptr<RelationCatalogCache> catalog = std::make_shared<RelationCatalogCache>();
  // pg_class and pg_index as the per-table collectors need them, read the
  // first time one of the scrape asks (throws like query()).
  const RelationCatalog& relation_catalog() const;
  // The counters of the catalog's indexes, by position in index_facts: at
  // least those at `positions` are the ones read in this scrape (what a
  // collector of it read already, the others read now; throws like
  // scan_relation_stats()). Valid until the next call.
  std::shared_ptr<IndexCounters> index_counters_seen = std::make_shared<IndexCounters>();
  const std::vector<pgx::AccessCounters>& index_counters(const std::vector<uint32_t>& positions) const;
  // Keeps what a collector read of every index of the catalog for the
  // others: counters[p] is index_facts[p]'s (moved in; returned).
  const std::vector<pgx::AccessCounters>& remember_index_counters(
      std::vector<pgx::AccessCounters>&& counters) const;
  std::shared_ptr<SessionsCache> sessions_cache = std::make_shared<SessionsCache>();
  // pg_stat_activity and the database names, read the first time a
  // collector of the scrape asks (throws like query()).
  const Sessions& sessions() const;
  // Runs one read-only statement (guarded SPI). Throws pgx::PgError.
  pgx::ResultSet query(const char* sql) const;
  // The same, a batch of rows at a time (pg/session.h).
  void query_batches(const char* sql, const std::function<void(const pgx::ResultSet&)>& each) const;
  // What the worker keeps from one scrape for the next (null: nothing).
  std::shared_ptr<KeptReads> kept;
  // query() for a statement whose result changes only with a configuration
  // reload: run once per reload where reads are kept.
  std::shared_ptr<const pgx::ResultSet> query_until_reload(const char* sql) const;
  // Families that render only such reads: rendered once per reload where
  // reads are kept (by `key`), copied into `out` each scrape.
  void render_until_reload(const char* key, metrics::Sink& out,
                           const std::function<void(metrics::Sink&)>& render) const;
  // Statistics of tables and indexes from the server's C API, in one pass
  // over them (guarded).
  void scan_relation_stats(pgx::StatsRequest& request) const;
  // What the first such pass of the scrape found: the number of the
  // database's functions with statistics (UINT64_MAX: no pass yet).
  std::shared_ptr<uint64_t> function_stats_entries = std::make_shared<uint64_t>(UINT64_MAX);

  // User-defined queries (custom metrics) run as the role that owns them,
  // contained (see pg/owner_query.h); never with the scrape's own identity.
  pgx::ResultSet query_as_owner(const std::string& sql, uint32_t owner, uint64_t max_rows) const;
  // pg_exporter.superuser_metrics: whether a superuser's definitions run.
  bool superuser_owners_allowed = false;
  // A scrape in a caller's session (pgexporter.metrics()) runs a definition
  // only for a caller that already has its owner's privileges.
  bool in_caller_session = false;
  bool caller_has_privileges_of(uint32_t role) const;
};

// One independently isolated piece of a collector's work: its own
// subtransaction, timeout, outcome and self-metrics (collector="<name>").
struct Part {
  std::string name;
  int timeout_ms = 0;  // 0 = the scrape's statement timeout
  std::function<void(const Context&, metrics::Sink&)> collect;
  // Its families must be new to the scrape: a part is user-defined and may not
  // add series to (or clash with) a built-in family.
  bool exclusive_families = true;
  // Which revision of the part this is (a custom metric's row version): a
  // part quarantined for hanging or stopping the worker runs again once its
  // definition is written again.
  std::string version;
  // Its subtransaction is rolled back even when it succeeds (what it wrote
  // into the result is copied out first): nothing it did outlives it.
  bool contained = false;
};

struct Collector {
  const char* name;
  const char* description;
  bool enabled_by_default;
  bool needs_sql;          // false: runs even when the database is unreachable
  int min_server_version;  // server_version_num bounds, 0 = unbounded
  int max_server_version;
  void (*collect)(const Context& ctx, metrics::Sink& out);
  // Optional: the collector is a list of parts, planned by a query that runs
  // in its own subtransaction (collect is then unused). Custom metrics use it
  // so that one failing definition costs only its own metrics.
  std::vector<Part> (*plan)(const Context& ctx) = nullptr;
  // Optional, with plan: whether plan would find any part at all, by a check
  // cheaper than asking another process to plan (throws like query()).
  bool (*has_parts)(const Context& ctx) = nullptr;
};

// Every collector in registration order.
const std::vector<const Collector*>& all();
const Collector* find(std::string_view name);
// Whether `c` supports that server version.
bool supports(const Collector& c, int server_version);

// ---- helpers for the common shape "one row = one label set" ----

struct ColumnMetric {
  const char* column;  // result column holding the value
  const char* name;    // metric family name
  prometheus::MetricType type;
  const char* help;
  double scale = 1.0;  // multiply (e.g. 0.001 for ms -> s)
};

// For each row and each ColumnMetric whose column exists, adds one sample
// labelled by the label columns. NULL or non-numeric values add no sample
// (absent, never a made-up 0). Missing label columns are an error.
void emit_rows(const pgx::ResultSet& rs, metrics::Sink& out, const std::vector<const char*>& label_columns,
               const std::vector<ColumnMetric>& metrics);

}  // namespace collectors
