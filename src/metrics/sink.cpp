#include "metrics/sink.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace metrics {

namespace {
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Label values are free text from the database: keep them valid UTF-8 so the
// exposition stays parseable, and distinct, so that two names never become
// one series: an invalid byte becomes U+FFFD and its two hex digits (80..FF),
// and a U+FFFD that was in the text becomes U+FFFD "U" (a SQL_ASCII database,
// or another database's names in pg_database, can hold any bytes). `escape`
// also escapes what the text format wants escaped in a label value
// (backslash, double quote, newline).
void append_utf8(std::string& out, std::string_view s, bool escape) {
  // Most text (names of tables, indexes, schemas) is plain ASCII with nothing
  // to escape: that is copied at once.
  size_t plain = 0;
  while (plain < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[plain]);
    if (c >= 0x80 || (escape && (c == '\\' || c == '"' || c == '\n'))) break;
    plain++;
  }
  out.append(s.data(), plain);
  size_t i = plain;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (escape && c == '\\') {
        out.append("\\\\");
      } else if (escape && c == '"') {
        out.append("\\\"");
      } else if (escape && c == '\n') {
        out.append("\\n");
      } else {
        out.push_back(static_cast<char>(c));
      }
      i++;
      continue;
    }
    size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; k++) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok) {
      unsigned cp = c & (0xFF >> (len + 1));
      for (size_t k = 1; k < len; k++) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= min_cp[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    static const char kHex[] = "0123456789ABCDEF";
    if (ok && s.compare(i, len, "\xEF\xBF\xBD") == 0) {
      out.append(
          "\xEF\xBF\xBD"
          "U");
      i += len;
    } else if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      i += 1;
    }
  }
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_utf8(out, s, false);
  return out;
}

// The lines prometheus-cpp writes for one family (header first).
std::string serialize(const prometheus::MetricFamily& f) {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, {f});
  return text.str();
}
}  // namespace

const char* type_name(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Histogram:
      return "histogram";
    case prometheus::MetricType::Summary:
      return "summary";
    default:
      return "untyped";
  }
}

// What TextSerializer writes for a family without samples (a unit test holds
// the two equal): a settings scrape declares some 350 families, and an
// ostringstream and serializer per family cost more than its lines.
std::string header_lines(const std::string& name, const std::string& help, prometheus::MetricType type) {
  std::string h;
  h.reserve(2 * name.size() + help.size() + 24);
  if (!help.empty()) {
    h.append("# HELP ").append(name).append(" ").append(help).append("\n");
  }
  h.append("# TYPE ").append(name).append(" ").append(type_name(type)).append("\n");
  return h;
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out.append("Nan");
    return;
  }
  if (std::isinf(value)) {
    out.append(value < 0 ? "-Inf" : "+Inf");
    return;
  }
  char buf[64];
  // %.16g writes integers below 1e16 as plain digits: most values are counts.
  if (std::fabs(value) < 1e16 && value == std::trunc(value) && !(value == 0 && std::signbit(value))) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
    out.append(buf, r.ptr);
    return;
  }
  auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 16);
  out.append(buf, r.ptr);
}

void LabelSet::append(std::string_view name, std::string_view value) {
  if (!valid_label_name(name)) throw std::invalid_argument("invalid label name: " + std::string(name));
  text_.push_back(text_.empty() ? '{' : ',');
  text_.append(name);
  text_.append("=\"");
  append_utf8(text_, value, true);
  text_.push_back('"');
}

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
  if (it != index_.end() && families_[it->second].reserved) {
    Entry& e = families_[it->second];
    e.reserved = false;
    e.type = type;
    e.header = header_lines(key, sanitize_help(help), type);
    return Family(this, it->second);
  }
  if (it != index_.end()) {
    if (families_[it->second].type != type) {
      throw std::invalid_argument("metric family " + key + " declared with two types");
    }
    return Family(this, it->second);
  }
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + key);
  Entry e;
  e.name = key;
  e.type = type;
  e.header = header_lines(key, sanitize_help(help), type);
  families_.push_back(std::move(e));
  index_.emplace(std::move(key), families_.size() - 1);
  return Family(this, families_.size() - 1);
}

void Sink::reserve(std::string_view name) {
  std::string key(name);
  if (index_.count(key) != 0) return;
  Entry e;
  e.name = key;
  e.reserved = true;
  e.type = prometheus::MetricType::Untyped;
  families_.push_back(std::move(e));
  index_.emplace(std::move(key), families_.size() - 1);
}

std::vector<std::string> Sink::names() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (const Entry& e : families_) {
    if (!e.name.empty()) out.push_back(e.name);
  }
  return out;
}

void Sink::append_rendered(std::string text) {
  if (text.empty()) return;
  Entry e;
  e.type = prometheus::MetricType::Untyped;
  e.header = std::move(text);
  families_.push_back(std::move(e));
}

std::vector<spool::Piece> Sink::take_pieces() {
  // Adjacent in-memory pieces are joined into blocks of up to kSpoolBlock:
  // a cluster's ~900 families would otherwise be ~1,800 send() calls.
  std::vector<spool::Piece> parts;
  auto add_text = [&parts](std::string& text) {
    if (text.empty()) return;
    if (!parts.empty() && !parts.back().in_file() && parts.back().text.size() + text.size() <= kSpoolBlock) {
      parts.back().text += text;
      std::string().swap(text);  // the copy is in the block: keep the peak at one copy
    } else {
      parts.push_back(spool::Piece{std::move(text)});
    }
  };
  for (Entry& e : families_) {
    add_text(e.header);
    for (spool::Piece& p : e.spooled) parts.push_back(std::move(p));
    add_text(e.body);
  }
  families_.clear();
  index_.clear();
  return parts;
}

void Sink::spool(Entry& e) {
  const int64_t at = spool_->append(e.body);
  if (at < 0) return;  // the file takes no more: memory for the rest of the scrape
  e.spooled.push_back(spool::Piece{std::string(), static_cast<uint64_t>(at), e.body.size()});
  e.body.clear();
}

void Sink::absorb(Sink&& other) {
  // Check every family first so that a clash leaves both sinks untouched.
  for (const auto& o : other.families_) {
    auto it = index_.find(o.name);
    if (it != index_.end() && !families_[it->second].reserved && !o.reserved &&
        families_[it->second].type != o.type) {
      throw std::invalid_argument("metric family " + o.name + " is declared with two different types");
    }
  }
  for (auto& o : other.families_) {
    if (o.name.empty()) {  // rendered text
      families_.push_back(std::move(o));
      continue;
    }
    auto it = index_.find(o.name);
    if (it == index_.end()) {
      index_.emplace(o.name, families_.size());
      families_.push_back(std::move(o));
      continue;
    }
    Entry& into = families_[it->second];
    if (o.reserved) continue;
    if (into.reserved) {
      into.reserved = false;
      into.type = o.type;
      into.header = std::move(o.header);
    }
    // Keeps the samples in the order they were added.
    if (o.spooled.empty()) {
      into.body += o.body;
      maybe_spool(into);
    } else {
      if (!into.body.empty()) into.spooled.push_back(spool::Piece{std::move(into.body)});
      for (spool::Piece& p : o.spooled) into.spooled.push_back(std::move(p));
      into.body = std::move(o.body);
    }
    into.samples += o.samples;
  }
  other.families_.clear();
  other.index_.clear();
}

void Sink::absorb_new(Sink&& other) {
  for (const auto& o : other.families_) {
    if (index_.count(o.name) != 0) {
      throw std::invalid_argument("metric family " + o.name + " already exists in this scrape");
    }
  }
  absorb(std::move(other));
}

size_t Sink::sample_count() const {
  size_t n = 0;
  for (const auto& e : families_) n += e.samples;
  return n;
}

size_t Sink::byte_count() const {
  size_t n = 0;
  for (const auto& e : families_) {
    n += e.header.size() + e.body.size();
    for (const auto& p : e.spooled) n += p.size();
  }
  return n;
}

void Family::reserve(size_t samples, size_t label_bytes) {
  Sink::Entry& e = sink_->families_[index_];
  // name, labels, a space, a value of up to ~20 characters, a newline.
  size_t want = e.body.size() + samples * (e.name.size() + label_bytes + 22);
  // A spooled family never holds much more than a block.
  if (sink_->spool_ && !sink_->spool_->failed()) want = std::min(want, Sink::kSpoolBlock + 4096);
  e.body.reserve(want);
}

void Family::add(const LabelSet& labels, double value) {
  Sink::Entry& e = sink_->families_[index_];
  if (e.type == prometheus::MetricType::Histogram) {
    throw std::invalid_argument("metric family " + e.name + " takes histogram samples");
  }
  e.body.append(e.name);
  e.body.append(labels.text());
  e.body.push_back(' ');
  append_value(e.body, value);
  e.body.push_back('\n');
  e.samples++;
  sink_->maybe_spool(e);
}

void Family::add_histogram(const std::vector<Label>& labels,
                           const std::vector<std::pair<double, uint64_t>>& buckets, uint64_t count,
                           double sum) {
  Sink::Entry& e = sink_->families_[index_];
  if (e.type != prometheus::MetricType::Histogram) {
    throw std::invalid_argument("metric family " + e.name + " is not a histogram");
  }
  // Histograms are few (one per application name at most): prometheus-cpp
  // writes their _bucket/_sum/_count lines.
  prometheus::MetricFamily f;
  f.name = e.name;
  f.type = e.type;
  prometheus::ClientMetric m;
  for (const auto& l : labels) {
    if (l.first == "le") throw std::invalid_argument("histogram label le is reserved");
    if (!valid_label_name(l.first))
      throw std::invalid_argument("invalid label name: " + std::string(l.first));
    m.label.push_back({std::string(l.first), valid_utf8(l.second)});
  }
  m.histogram.sample_count = count;
  m.histogram.sample_sum = sum;
  for (const auto& b : buckets) {
    prometheus::ClientMetric::Bucket bucket;
    bucket.upper_bound = b.first;
    bucket.cumulative_count = b.second;
    m.histogram.bucket.push_back(bucket);
  }
  f.metric.push_back(std::move(m));
  const std::string text = serialize(f);
  // Skip the header lines prometheus-cpp writes before the samples.
  size_t start = 0;
  while (start < text.size() && text[start] == '#') {
    size_t nl = text.find('\n', start);
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  e.body.append(text, start, std::string::npos);
  e.samples++;
  sink_->maybe_spool(e);
}

}  // namespace metrics
