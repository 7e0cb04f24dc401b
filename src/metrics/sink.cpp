#include "metrics/sink.h"

#include <stdexcept>

namespace metrics {

namespace {
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Label values are free text from the database: keep them valid UTF-8 so the
// exposition stays parseable (invalid bytes become U+FFFD).
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; k++) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len > 1) {
      unsigned cp = c & (0xFF >> (len + 1));
      for (size_t k = 1; k < len; k++) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= min_cp[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      i += 1;
    }
  }
  return out;
}
}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); i++) {
    char c = name[i];
    if (!(is_alpha(c) || c == '_' || c == ':' || (i > 0 && is_digit(c)))) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); i++) {
    char c = name[i];
    if (!(is_alpha(c) || c == '_' || (i > 0 && is_digit(c)))) return false;
  }
  return true;
}

std::string sanitize_name(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) out.push_back(is_alpha(c) || is_digit(c) || c == '_' ? c : '_');
  if (out.empty() || is_digit(out[0])) out.insert(out.begin(), '_');
  return out;
}

std::string sanitize_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      out.push_back(' ');
    } else if (c == '\\') {
      out.append("\\\\");
    } else {
      out.push_back(c);
    }
  }
  return valid_utf8(out);
}

Family Sink::gauge(std::string_view name, std::string_view help) {
  return family(name, help, prometheus::MetricType::Gauge);
}
Family Sink::counter(std::string_view name, std::string_view help) {
  return family(name, help, prometheus::MetricType::Counter);
}
Family Sink::untyped(std::string_view name, std::string_view help) {
  return family(name, help, prometheus::MetricType::Untyped);
}

Family Sink::histogram(std::string_view name, std::string_view help) {
  return family(name, help, prometheus::MetricType::Histogram);
}

Family Sink::family(std::string_view name, std::string_view help, prometheus::MetricType type) {
  std::string key(name);
  auto it = index_.find(key);
  if (it != index_.end()) {
    if (families_[it->second].type != type) {
      throw std::invalid_argument("metric family " + key + " declared with two types");
    }
    return Family(this, it->second);
  }
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + key);
  prometheus::MetricFamily f;
  f.name = key;
  f.help = sanitize_help(help);
  f.type = type;
  families_.push_back(std::move(f));
  index_.emplace(std::move(key), families_.size() - 1);
  return Family(this, families_.size() - 1);
}

void Sink::absorb(Sink&& other) {
  // Check every family first so that a clash leaves both sinks untouched.
  for (const auto& f : other.families_) {
    auto it = index_.find(f.name);
    if (it != index_.end() && families_[it->second].type != f.type) {
      throw std::invalid_argument("metric family " + f.name + " is declared with two different types");
    }
  }
  for (auto& f : other.families_) {
    Family into = family(f.name, f.help, f.type);
    auto& dst = families_[into.index_].metric;
    if (dst.empty()) {
      dst = std::move(f.metric);
    } else {
      dst.insert(dst.end(), std::make_move_iterator(f.metric.begin()),
                 std::make_move_iterator(f.metric.end()));
    }
  }
  other.families_.clear();
  other.index_.clear();
}

void Sink::absorb_new(Sink&& other) {
  for (const auto& f : other.families_) {
    if (index_.count(f.name) != 0) {
      throw std::invalid_argument("metric family " + f.name + " already exists in this scrape");
    }
  }
  absorb(std::move(other));
}

size_t Sink::sample_count() const {
  size_t n = 0;
  for (const auto& f : families_) n += f.metric.size();
  return n;
}

namespace {
template <typename It>
void set_labels(prometheus::ClientMetric& m, It begin, It end) {
  for (It it = begin; it != end; ++it) {
    if (!valid_label_name(it->first)) {
      throw std::invalid_argument("invalid label name: " + std::string(it->first));
    }
    m.label.push_back({std::string(it->first), valid_utf8(it->second)});
  }
}
}  // namespace

void Family::add_histogram(const std::vector<Label>& labels,
                           const std::vector<std::pair<double, uint64_t>>& buckets, uint64_t count,
                           double sum) {
  prometheus::MetricFamily& f = sink_->families_[index_];
  if (f.type != prometheus::MetricType::Histogram) {
    throw std::invalid_argument("metric family " + f.name + " is not a histogram");
  }
  for (const auto& l : labels) {
    if (l.first == "le") throw std::invalid_argument("histogram label le is reserved");
  }
  prometheus::ClientMetric m;
  set_labels(m, labels.begin(), labels.end());
  m.histogram.sample_count = count;
  m.histogram.sample_sum = sum;
  for (const auto& b : buckets) {
    prometheus::ClientMetric::Bucket bucket;
    bucket.upper_bound = b.first;
    bucket.cumulative_count = b.second;
    m.histogram.bucket.push_back(bucket);
  }
  f.metric.push_back(std::move(m));
}

template <typename It>
void Family::add_range(It begin, It end, double value) {
  prometheus::MetricFamily& f = sink_->families_[index_];
  if (f.type == prometheus::MetricType::Histogram) {
    throw std::invalid_argument("metric family " + f.name + " takes histogram samples");
  }
  prometheus::ClientMetric m;
  set_labels(m, begin, end);
  switch (f.type) {
    case prometheus::MetricType::Counter:
      m.counter.value = value;
      break;
    case prometheus::MetricType::Gauge:
      m.gauge.value = value;
      break;
    default:
      m.untyped.value = value;
      break;
  }
  f.metric.push_back(std::move(m));
}

void Family::add(std::initializer_list<Label> labels, double value) {
  add_range(labels.begin(), labels.end(), value);
}

void Family::add(const std::vector<Label>& labels, double value) {
  add_range(labels.begin(), labels.end(), value);
}

}  // namespace metrics
