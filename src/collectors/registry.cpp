#include <stdexcept>

#include "collectors/collector.h"

namespace collectors {

#define COLLECTOR(id) extern const Collector id##_collector;
#include "collectors/list.def"
#undef COLLECTOR

const std::vector<const Collector*>& all() {
  // Never destroyed: static destructors run at every backend exit.
  static const auto* list = new std::vector<const Collector*>{
#define COLLECTOR(id) &id##_collector,
#include "collectors/list.def"
#undef COLLECTOR
  };
  return *list;
}

const Collector* find(std::string_view name) {
  for (const Collector* c : all()) {
    if (name == c->name) return c;
  }
  return nullptr;
}

bool supports(const Collector& c, int server_version) {
  if (c.min_server_version != 0 && server_version < c.min_server_version) return false;
  if (c.max_server_version != 0 && server_version > c.max_server_version) return false;
  return true;
}

void emit_rows(const pgx::ResultSet& rs, metrics::Sink& out, const std::vector<const char*>& label_columns,
               const std::vector<ColumnMetric>& metrics) {
  std::vector<size_t> label_idx;
  for (const char* l : label_columns) label_idx.push_back(rs.require(l));
  // Each row's labels are escaped once and shared by all its families.
  std::vector<metrics::LabelSet> row_labels(rs.rows());
  std::vector<metrics::Label> labels(label_columns.size());
  size_t label_bytes = 0;
  for (size_t r = 0; r < rs.rows(); r++) {
    for (size_t k = 0; k < label_idx.size(); k++) labels[k] = {label_columns[k], rs.text(r, label_idx[k])};
    row_labels[r].assign(labels.begin(), labels.end());
    label_bytes += row_labels[r].text().size();
  }
  out.reserve_label_sets(rs.rows(), rs.rows() == 0 ? 0 : label_bytes / rs.rows() + 1);
  for (const ColumnMetric& m : metrics) {
    int col = rs.column(m.column);
    if (col < 0) continue;  // this server version has no such column
    metrics::Family fam = out.family(m.name, m.help, m.type);
    fam.reserve(rs.rows());
    for (size_t r = 0; r < rs.rows(); r++) {
      auto v = rs.number(r, static_cast<size_t>(col));
      if (v) fam.add(row_labels[r], *v * m.scale);
    }
  }
}

}  // namespace collectors
