#include "metrics/sink.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace metrics {

// Label texts one after another; label set i is bytes [ends[i-1], ends[i])
// of them. A large table's text goes to `file` in blocks as it grows (file
// ranges `spilled`, in order), `text` is the rest; only the ends stay in
// memory.
struct LabelTable {
  uint64_t serial;
  std::string text;
  std::vector<uint32_t> ends;
  std::shared_ptr<const spool::File> file;
  std::vector<std::pair<uint64_t, uint64_t>> spilled;  // (offset, length)
  std::vector<uint64_t> spilled_ends;                  // where each spilled block ends in the table
  uint64_t spilled_bytes = 0;
  // Each spilled block read back, while some connection writing it out holds it.
  mutable std::vector<std::weak_ptr<const std::string>> read_back;

  // The text of label set `id`, which the caller checked is < ends.size();
  // false (and *error set) when its block cannot be read back or the table
  // is damaged. Blocks are read as they are needed and kept in `cache` up to
  // kReadBackBudget bytes: a family walks its table in order, and each family
  // walks it again, so the first blocks stay and the last slot takes the rest.
  bool at(uint32_t id, spool::Lines::Cache& cache, std::string_view* out, std::string* error) const {
    const uint64_t begin = id == 0 ? 0 : ends[id - 1], end = ends[id];
    if (end < begin) return damaged(error);
    if (cache.owner == this && begin >= cache.lo && end <= cache.hi) {
      *out = std::string_view(*cache.blocks[cache.current].second).substr(begin - cache.lo, end - begin);
      return true;
    }
    if (begin >= spilled_bytes) {
      if (end - spilled_bytes > text.size()) return damaged(error);
      *out = std::string_view(text).substr(begin - spilled_bytes, end - begin);
      return true;
    }
    const size_t k = std::upper_bound(spilled_ends.begin(), spilled_ends.end(), begin) - spilled_ends.begin();
    const uint64_t lo = spilled_ends[k] - spilled[k].second, hi = spilled_ends[k];
    if (end > hi) return damaged(error);  // a label set never spans two blocks
    if (cache.owner != this) {
      cache = spool::Lines::Cache();
      cache.owner = this;
    }
    size_t place = 0;
    while (place < cache.blocks.size() && cache.blocks[place].first != k) place++;
    if (place == cache.blocks.size()) {
      std::shared_ptr<const std::string> bytes = read_back[k].lock();
      if (!bytes) {
        auto read = std::make_shared<std::string>();
        if (!file->read(spilled[k].first, spilled[k].second, read.get()) ||
            read->size() != spilled[k].second) {
          *error = "could not read back a label table from the temporary file";
          return false;
        }
        bytes = std::move(read);
        read_back[k] = bytes;
      }
      if (cache.bytes + bytes->size() > kReadBackBudget && cache.current < cache.blocks.size()) {
        place = cache.current;
        cache.bytes -= cache.blocks[place].second->size();
        cache.blocks[place] = {k, std::move(bytes)};
      } else {
        cache.blocks.emplace_back(k, std::move(bytes));
      }
      cache.bytes += cache.blocks[place].second->size();
    }
    cache.current = place;
    cache.lo = lo;
    cache.hi = hi;
    *out = std::string_view(*cache.blocks[place].second).substr(begin - lo, end - begin);
    return true;
  }

  static constexpr size_t kReadBackBudget = 8u << 20;

 private:
  static bool damaged(std::string* error) {
    *error = "the exposition's encoded lines are damaged";
    return false;
  }
};

class FamilyLines final : public spool::Lines {
 public:
  FamilyLines(std::string name, std::shared_ptr<const LabelTable> labels)
      : name_(std::move(name)), labels_(std::move(labels)) {}
  const LabelTable* table() const { return labels_.get(); }

  bool render(std::string_view in, size_t* pos, std::string* out, size_t want, Cache& cache,
              std::string* error) const override {
    size_t p = *pos;
    std::string_view labels;
    while (p < in.size() && out->size() < want) {
      uint32_t id = 0;
      int shift = 0;
      for (;;) {
        if (p >= in.size() || shift > 28) return bad(in, pos, error);
        const auto b = static_cast<unsigned char>(in[p++]);
        id |= static_cast<uint32_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) break;
        shift += 7;
      }
      if (p >= in.size() || id >= labels_->ends.size()) return bad(in, pos, error);
      const size_t n = static_cast<unsigned char>(in[p++]);
      if (n > in.size() - p) return bad(in, pos, error);
      if (!labels_->at(id, cache, &labels, error)) {
        *pos = in.size();
        return false;
      }
      out->append(name_);
      out->append(labels);
      out->push_back(' ');
      out->append(in.data() + p, n);
      out->push_back('\n');
      p += n;
    }
    *pos = p;
    return true;
  }

 private:
  static bool bad(std::string_view in, size_t* pos, std::string* error) {
    *pos = in.size();
    *error = "the exposition's encoded lines are damaged";
    return false;
  }
  std::string name_;
  std::shared_ptr<const LabelTable> labels_;
};

namespace {
// Tells label tables apart for LabelSet's cache (an address may be reused).
std::atomic<uint64_t> next_table_serial{1};

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

namespace {
// `value` as TextSerializer writes it, into buf (at least 32 bytes);
// returns its length (at most 24).
size_t value_text(double value, char* buf) {
  if (std::isnan(value)) {
    std::memcpy(buf, "Nan", 3);
    return 3;
  }
  if (std::isinf(value)) {
    std::memcpy(buf, value < 0 ? "-Inf" : "+Inf", 4);
    return 4;
  }
  // %.16g writes integers below 1e16 as plain digits: most values are counts.
  if (std::fabs(value) < 1e16 && value == std::trunc(value) && !(value == 0 && std::signbit(value))) {
    return static_cast<size_t>(std::to_chars(buf, buf + 32, static_cast<int64_t>(value)).ptr - buf);
  }
  return static_cast<size_t>(std::to_chars(buf, buf + 32, value, std::chars_format::general, 16).ptr - buf);
}
}  // namespace

void append_value(std::string& out, double value) {
  char buf[32];
  out.append(buf, value_text(value, buf));
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
    if (!parts.empty() && !parts.back().in_file() && !parts.back().encoded() &&
        parts.back().text.size() + text.size() <= kSpoolBlock) {
      parts.back().text += text;
      std::string().swap(text);  // the copy is in the block: keep the peak at one copy
    } else {
      parts.push_back(spool::Piece{std::move(text)});
    }
  };
  spool::Lines::Cache cache;  // one label table read back for all its small families
  for (Entry& e : families_) {
    close_encoded(e);
    add_text(e.header);
    for (spool::Piece& p : e.spooled) {
      if (!p.in_file() && p.encoded() && p.rendered <= kSpoolBlock) {
        // A small family: written out now, it joins the block around it.
        std::string text;
        text.reserve(p.rendered);
        size_t pos = 0;
        std::string error;
        if (!p.lines->render(p.text, &pos, &text, SIZE_MAX, cache, &error)) throw std::runtime_error(error);
        add_text(text);
      } else if (!p.in_file() && !p.encoded()) {
        add_text(p.text);
      } else {
        parts.push_back(std::move(p));
      }
    }
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

void Sink::close_text(Entry& e) {
  if (e.body.empty()) return;
  e.spooled.push_back(spool::Piece{std::move(e.body)});
  e.body.clear();
}

void Sink::close_encoded(Entry& e) {
  if (!e.encoded.empty()) {
    spool::Piece p;
    p.lines = e.lines;
    p.rendered = e.encoded_text;
    // (A last few samples stay in memory: a small scrape writes no file.)
    const int64_t at = spooling() && e.encoded.size() >= kEncodedBlock ? spool_->append(e.encoded) : -1;
    if (at >= 0) {
      p.file_offset = static_cast<uint64_t>(at);
      p.file_length = e.encoded.size();
      e.encoded.clear();
    } else {
      p.text = std::move(e.encoded);
      e.encoded = std::string();
    }
    e.spooled.push_back(std::move(p));
  }
  e.encoded_text = 0;
}

bool Sink::spill_labels() {
  // A copy shares its table with an original that may be kept: never moved.
  LabelTable& t = *labels_;
  if (labels_shared_ || t.text.empty() || !spooling()) return false;
  const int64_t at = spool_->append(t.text);
  if (at < 0) return false;  // the file takes no more: the rest stays in memory
  t.file = spool_;
  t.spilled.emplace_back(static_cast<uint64_t>(at), t.text.size());
  t.spilled_bytes += t.text.size();
  t.spilled_ends.push_back(t.spilled_bytes);
  t.read_back.emplace_back();
  t.text.clear();
  return true;
}

LabelTable& Sink::label_table() {
  if (!labels_) {
    labels_ = std::make_shared<LabelTable>();
    labels_->serial = next_table_serial.fetch_add(1);
  }
  return *labels_;
}

void Sink::reserve_label_sets(size_t sets, size_t bytes) {
  LabelTable& t = label_table();
  if (t.ends.capacity() < t.ends.size() + sets) t.ends.reserve(t.ends.size() + sets);
  // A table that goes to the file as it grows never holds more than a block
  // and one set: reserving all of it would keep it all (at 40,000 tables the
  // indexes' table is 16 MB).
  const size_t text =
      spooling() && !labels_shared_ ? std::min(sets * bytes, kSpillLabels + bytes) : sets * bytes;
  if (t.text.capacity() < t.text.size() + text) t.text.reserve(t.text.size() + text);
}

void Sink::add_encoded(Entry& e, const LabelSet& labels, double value) {
  label_table();
  if (labels.table_ != labels_->serial) {
    const uint64_t end = labels_->spilled_bytes + labels_->text.size() + labels.text().size();
    if (labels_->ends.size() >= UINT32_MAX || end >= UINT32_MAX) {
      throw std::length_error("too many label sets in one collector");
    }
    labels_->text.append(labels.text());
    labels_->ends.push_back(static_cast<uint32_t>(end));
    labels.table_ = labels_->serial;
    labels.id_ = static_cast<uint32_t>(labels_->ends.size() - 1);
  }
  close_text(e);
  if (!e.lines || e.lines->table() != labels_.get()) {
    close_encoded(e);
    e.lines = std::make_shared<const FamilyLines>(e.name, labels_);
  }
  char v[32];
  const size_t n = value_text(value, v);
  for (uint32_t id = labels.id_;; id >>= 7) {
    if (id < 0x80) {
      e.encoded.push_back(static_cast<char>(id));
      break;
    }
    e.encoded.push_back(static_cast<char>((id & 0x7f) | 0x80));
  }
  e.encoded.push_back(static_cast<char>(n));
  e.encoded.append(v, n);
  e.encoded_text += e.name.size() + labels.text().size() + n + 2;
  e.samples++;
  if (labels_->text.size() >= kSpillLabels) spill_labels();
  if (e.encoded.size() >= kEncodedBlock && spooling()) close_encoded(e);
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
    if (o.spooled.empty() && o.encoded.empty() && into.encoded.empty()) {
      into.body += o.body;
      maybe_spool(into);
    } else {
      close_text(into);
      close_encoded(into);
      for (spool::Piece& p : o.spooled) into.spooled.push_back(std::move(p));
      into.body = std::move(o.body);
      into.encoded = std::move(o.encoded);
      into.lines = std::move(o.lines);
      into.encoded_text = o.encoded_text;
    }
    into.samples += o.samples;
  }
  other.families_.clear();
  other.index_.clear();
  // The collector is done: the rest of a large label table follows the rest.
  if (other.labels_ && (!other.labels_->spilled.empty() || other.labels_->text.size() >= kSpillLabels)) {
    if (other.spill_labels()) std::string().swap(other.labels_->text);
  }
  other.labels_.reset();
  other.labels_shared_ = false;
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
    n += e.header.size() + e.body.size() + e.encoded_text;
    for (const auto& p : e.spooled) n += p.size();
  }
  return n;
}

void Family::reserve(size_t samples) {
  Sink::Entry& e = sink_->families_[index_];
  // A label set's number, a length and a value's text: about 8 bytes.
  size_t want = e.encoded.size() + samples * 8;
  // A spooled family never holds much more than a block.
  if (sink_->spooling()) want = std::min(want, Sink::kEncodedBlock + 64);
  e.encoded.reserve(want);
}

void Family::add(const LabelSet& labels, double value) {
  Sink::Entry& e = sink_->families_[index_];
  if (e.type == prometheus::MetricType::Histogram) {
    throw std::invalid_argument("metric family " + e.name + " takes histogram samples");
  }
  sink_->add_encoded(e, labels, value);
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
  sink_->close_encoded(e);
  e.body.append(text, start, std::string::npos);
  e.samples++;
  sink_->maybe_spool(e);
}

}  // namespace metrics
