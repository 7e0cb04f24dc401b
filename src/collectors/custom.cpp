// User-defined metrics from the table pgexporter.custom_metrics (see the
// extension script and README). Each enabled definition is a Part: its own
// subtransaction (always rolled back), timeout and self-metrics
// (collector="custom:<name>"), so one broken or slow query costs only its own
// metrics. Each query runs as the role that owns its definition, contained
// (pg/owner_query.h): never with the privileges of the worker or of a caller.
//
// The table is validated by a trigger, but a superuser can bypass it, so every
// field is checked again here: names, label and value columns, row count,
// numeric values, duplicate label sets. A definition that fails any check
// fails alone, with a message that says which field.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/custom_limits.h"

namespace collectors {

namespace {

// More rows than this is a cardinality accident, not a metric.
constexpr int kMaxRows = 10000;

// One more than may run, to tell "too many" from "just enough".
const std::string& definitions_sql() {
  static const auto* sql = new std::string(
      "SELECT d.name, d.query, array_to_string(d.labels, ',') AS labels, "
      "array_to_string(d.gauges, ',') AS gauges, array_to_string(d.counters, ',') AS counters, "
      "coalesce(d.help, '') AS help, ceil(extract(epoch FROM d.timeout) * 1000) AS timeout_ms, "
      "d.owner::oid AS owner, d.xmin::text AS version "
      "FROM pgexporter.custom_metrics d WHERE d.enabled ORDER BY d.name LIMIT " +
      std::to_string(kMaxCustomMetrics + 1));  // never destroyed
  return *sql;
}

// Installed in the worker's database, and at 1.1 or later (1.0's definitions
// have no owner to run as).
constexpr const char* kInstalledSql =
    "SELECT e.extversion AS version FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'pg_exporter' AND n.nspname = 'pgexporter'";

struct Definition {
  std::string name;
  std::string query;
  uint32_t owner = 0;
  std::vector<std::string> labels;
  std::vector<std::pair<std::string, prometheus::MetricType>> values;
  std::string help;
};

std::vector<std::string> split(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size() && !list.empty()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    out.emplace_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

void validate(const Definition& d) {
  if (!metrics::valid_metric_name(d.name) || d.name.size() > kMaxCustomNameBytes)
    throw std::runtime_error("invalid metric name \"" + d.name + "\"");
  if (d.name.rfind("pg_exporter_", 0) == 0)
    throw std::runtime_error("the prefix pg_exporter_ is the exporter's own");
  if (d.query.size() > kMaxCustomQueryBytes)
    throw std::runtime_error("query longer than " + std::to_string(kMaxCustomQueryBytes) + " bytes");
  if (d.values.empty()) throw std::runtime_error("no gauge or counter columns");
  std::set<std::string> seen;
  for (const auto& l : d.labels) {
    if (!metrics::valid_label_name(l)) throw std::runtime_error("invalid label column \"" + l + "\"");
    if (!seen.insert(l).second) throw std::runtime_error("column \"" + l + "\" listed twice");
  }
  for (const auto& [v, type] : d.values) {
    if (!metrics::valid_label_name(v)) throw std::runtime_error("invalid value column \"" + v + "\"");
    if (!seen.insert(v).second) throw std::runtime_error("column \"" + v + "\" listed twice");
  }
}

void collect_definition(const Definition& d, const Context& ctx, metrics::Sink& out) {
  validate(d);
  // From SQL, the caller must already have every privilege the query gets.
  if (ctx.in_caller_session && !ctx.caller_has_privileges_of(d.owner))
    throw std::runtime_error(
        "not run in this session: it runs as its owner, whose privileges you do not have");
  pgx::ResultSet rs = ctx.query_as_owner(d.query, d.owner, kMaxRows);
  std::vector<size_t> label_idx;
  for (const auto& l : d.labels) {
    int i = rs.column(l);
    if (i < 0) throw std::runtime_error("query has no label column \"" + l + "\"");
    label_idx.push_back(static_cast<size_t>(i));
  }
  std::vector<size_t> value_idx;
  for (const auto& v : d.values) {
    int i = rs.column(v.first);
    if (i < 0) throw std::runtime_error("query has no value column \"" + v.first + "\"");
    value_idx.push_back(static_cast<size_t>(i));
  }

  // Two rows with the same labels would be duplicate series.
  std::set<std::vector<std::string_view>> label_sets;
  std::vector<metrics::Label> labels(d.labels.size());
  std::vector<metrics::Family> families;
  for (size_t k = 0; k < d.values.size(); k++) {
    const std::string help = d.help.empty()
                                 ? "Custom metric " + d.name + ", column " + d.values[k].first + "."
                                 : d.help + " (column " + d.values[k].first + ")";
    families.push_back(out.family(d.name + "_" + d.values[k].first, help, d.values[k].second));
  }
  for (size_t r = 0; r < rs.rows(); r++) {
    std::vector<std::string_view> key;
    for (size_t k = 0; k < label_idx.size(); k++) {
      labels[k] = {d.labels[k], rs.text(r, label_idx[k])};
      key.push_back(labels[k].second);
    }
    if (!label_sets.insert(key).second) {
      throw std::runtime_error("two rows have the same label values (row " + std::to_string(r + 1) + ")");
    }
    for (size_t k = 0; k < value_idx.size(); k++) {
      if (rs.is_null(r, value_idx[k])) continue;  // absent, not 0
      auto v = rs.number(r, value_idx[k]);
      if (!v) {
        throw std::runtime_error("column \"" + d.values[k].first + "\" is not a number in row " +
                                 std::to_string(r + 1));
      }
      families[k].add(labels, *v);
    }
  }
}

std::vector<Part> plan_custom(const Context& ctx) {
  std::vector<Part> parts;
  // Not installed in the worker's database: nothing to do, and no error.
  pgx::ResultSet installed = ctx.query(kInstalledSql);
  if (installed.rows() != 1) return parts;
  if (installed.text(0, 0) == "1.0")
    throw std::runtime_error(
        "extension pg_exporter 1.0: its definitions have no owner to run as; ALTER EXTENSION pg_exporter "
        "UPDATE");

  pgx::ResultSet rs = ctx.query(definitions_sql().c_str());
  if (rs.rows() > static_cast<size_t>(kMaxCustomMetrics))
    throw std::runtime_error("more than " + std::to_string(kMaxCustomMetrics) +
                             " enabled definitions: disable some");
  const size_t owner_col = rs.require("owner");
  const size_t version_col = rs.require("version");
  for (size_t r = 0; r < rs.rows(); r++) {
    auto d = std::make_shared<Definition>();
    d->name = std::string(rs.text(r, 0));
    d->query = std::string(rs.text(r, 1));
    d->labels = split(rs.text(r, 2));
    for (auto& g : split(rs.text(r, 3))) d->values.emplace_back(std::move(g), prometheus::MetricType::Gauge);
    for (auto& c : split(rs.text(r, 4)))
      d->values.emplace_back(std::move(c), prometheus::MetricType::Counter);
    d->help = std::string(rs.text(r, 5));
    d->owner = static_cast<uint32_t>(rs.number(r, owner_col).value_or(0));
    Part p;
    p.version = std::string(rs.text(r, version_col));
    p.contained = true;
    // The part's name is a label value: any text is safe there.
    p.name = d->name;
    auto timeout = rs.number(r, 6);
    if (timeout && *timeout >= 1 && *timeout <= 3600 * 1000.0) p.timeout_ms = static_cast<int>(*timeout);
    p.collect = [d](const Context& c, metrics::Sink& out) { collect_definition(*d, c, out); };
    parts.push_back(std::move(p));
  }
  return parts;
}

// Whether the worker's database has the extension and an enabled
// definition: a scrape asks the custom metrics worker only then.
bool has_definitions(const Context& ctx) {
  pgx::ResultSet installed = ctx.query(kInstalledSql);
  if (installed.rows() != 1) return false;
  pgx::ResultSet rs = ctx.query("SELECT EXISTS (SELECT FROM pgexporter.custom_metrics WHERE enabled) AS any");
  return rs.rows() == 1 && rs.number(0, 0).value_or(1) != 0;
}

void collect_nothing(const Context&, metrics::Sink&) {}

}  // namespace

extern const Collector custom_collector = {
    "custom",
    "User-defined metrics from the table pgexporter.custom_metrics, each query isolated.",
    true,
    true,
    0,
    0,
    &collect_nothing,
    &plan_custom,
    &has_definitions};

}  // namespace collectors
