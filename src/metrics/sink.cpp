#include "metrics/sink.h"

#include <sstream>
#include <stdexcept>

#include <prometheus/text_serializer.h>

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
    if (families_[it->second].family.type != type) {
      throw std::invalid_argument("metric family " + key + " declared with two types");
    }
    return Family(this, it->second);
  }
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + key);
  Entry e;
  e.family.name = key;
  e.family.help = sanitize_help(help);
  e.family.type = type;
  // prometheus-cpp writes these lines for a family without samples.
  std::ostringstream header;
  prometheus::TextSerializer().Serialize(header, {e.family});
  e.header = header.str();
  families_.push_back(std::move(e));
  index_.emplace(std::move(key), families_.size() - 1);
  return Family(this, families_.size() - 1);
}

void Sink::flush(Entry& e) {
  if (e.family.metric.empty()) return;
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, {e.family});
  const std::string text = out.str();
  if (text.compare(0, e.header.size(), e.header) != 0) {
    throw std::logic_error("serialised family " + e.family.name + " does not start with its header");
  }
  e.body.append(text, e.header.size(), std::string::npos);
  e.family.metric.clear();
}

void Sink::push(Entry& e, prometheus::ClientMetric&& m) {
  e.family.metric.push_back(std::move(m));
  e.samples++;
  if (e.family.metric.size() >= kChunk) flush(e);
}

std::string Sink::render() {
  size_t total = 0;
  for (Entry& e : families_) {
    flush(e);
    total += e.header.size() + e.body.size();
  }
  std::string out;
  out.reserve(total);
  for (Entry& e : families_) {
    out += e.header;
    out += e.body;
    std::string().swap(e.body);  // give the memory back as we go
  }
  return out;
}

void Sink::absorb(Sink&& other) {
  // Check every family first so that a clash leaves both sinks untouched.
  for (const auto& o : other.families_) {
    auto it = index_.find(o.family.name);
    if (it != index_.end() && families_[it->second].family.type != o.family.type) {
      throw std::invalid_argument("metric family " + o.family.name + " is declared with two different types");
    }
  }
  for (auto& o : other.families_) {
    flush(o);
    auto it = index_.find(o.family.name);
    if (it == index_.end()) {
      index_.emplace(o.family.name, families_.size());
      families_.push_back(std::move(o));
      continue;
    }
    Entry& into = families_[it->second];
    flush(into);  // keeps the samples in the order they were added
    into.body += o.body;
    into.samples += o.samples;
  }
  other.families_.clear();
  other.index_.clear();
}

void Sink::absorb_new(Sink&& other) {
  for (const auto& o : other.families_) {
    if (index_.count(o.family.name) != 0) {
      throw std::invalid_argument("metric family " + o.family.name + " already exists in this scrape");
    }
  }
  absorb(std::move(other));
}

size_t Sink::sample_count() const {
  size_t n = 0;
  for (const auto& e : families_) n += e.samples;
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
  Sink::Entry& e = sink_->families_[index_];
  const prometheus::MetricFamily& f = e.family;
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
  sink_->push(e, std::move(m));
}

template <typename It>
void Family::add_range(It begin, It end, double value) {
  Sink::Entry& e = sink_->families_[index_];
  const prometheus::MetricFamily& f = e.family;
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
  sink_->push(e, std::move(m));
}

void Family::add(std::initializer_list<Label> labels, double value) {
  add_range(labels.begin(), labels.end(), value);
}

void Family::add(const std::vector<Label>& labels, double value) {
  add_range(labels.begin(), labels.end(), value);
}

}  // namespace metrics
