// User-defined metrics from the table pgexporter.custom_metrics (see the
// extension script and README). Each enabled definition is a Part: its own
// subtransaction, timeout and self-metrics (collector="custom:<name>"), so one
// broken or slow query costs only its own metrics.
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

namespace collectors {

namespace {

// More rows than this is a cardinality accident, not a metric.
constexpr int kMaxRows = 10000;

constexpr const char* kDefinitionsSql =
    "SELECT d.name, d.query, array_to_string(d.labels, ',') AS labels, "
    "array_to_string(d.gauges, ',') AS gauges, array_to_string(d.counters, ',') AS counters, "
    "coalesce(d.help, '') AS help, "
    "ceil(extract(epoch FROM d.timeout) * 1000) AS timeout_ms "
    "FROM pgexporter.custom_metrics d WHERE d.enabled ORDER BY d.name";

constexpr const char* kInstalledSql =
    "SELECT count(*) AS n FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'pg_exporter' AND n.nspname = 'pgexporter'";

struct Definition {
  std::string name;
  std::string query;
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
  if (!metrics::valid_metric_name(d.name)) throw std::runtime_error("invalid metric name \"" + d.name + "\"");
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
  // A subquery accepts only a single SELECT (or VALUES/TABLE): no second
  // statement, no data-modifying WITH. The limit bounds memory and series.
  std::string sql =
      "SELECT * FROM (" + d.query + "\n) AS pgexporter_custom LIMIT " + std::to_string(kMaxRows + 1);
  pgx::ResultSet rs = ctx.query(sql.c_str());
  if (rs.rows() > static_cast<size_t>(kMaxRows)) {
    throw std::runtime_error("query returned more than " + std::to_string(kMaxRows) + " rows");
  }
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
  if (installed.rows() != 1 || installed.number(0, 0).value_or(0) == 0) return parts;

  pgx::ResultSet rs = ctx.query(kDefinitionsSql);
  for (size_t r = 0; r < rs.rows(); r++) {
    auto d = std::make_shared<Definition>();
    d->name = std::string(rs.text(r, 0));
    d->query = std::string(rs.text(r, 1));
    d->labels = split(rs.text(r, 2));
    for (auto& g : split(rs.text(r, 3))) d->values.emplace_back(std::move(g), prometheus::MetricType::Gauge);
    for (auto& c : split(rs.text(r, 4)))
      d->values.emplace_back(std::move(c), prometheus::MetricType::Counter);
    d->help = std::string(rs.text(r, 5));
    Part p;
    // The part's name is a label value: any text is safe there.
    p.name = d->name;
    auto timeout = rs.number(r, 6);
    if (timeout && *timeout >= 1 && *timeout <= 3600 * 1000.0) p.timeout_ms = static_cast<int>(*timeout);
    p.collect = [d](const Context& c, metrics::Sink& out) { collect_definition(*d, c, out); };
    parts.push_back(std::move(p));
  }
  return parts;
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
    &plan_custom};

}  // namespace collectors
