// What a collector writes its samples into: families with the prometheus-cpp
// data model's names, help and types, each sample written straight away as
// one exposition line. Families are built fresh for every scrape, so a label
// set that disappears from the database disappears from the output (no stale
// series).
//
// Why lines and not prometheus::ClientMetric: a database with 20,000 tables has
// over half a million samples; a ClientMetric costs over a kilobyte and its
// serialisation an ostream per value, the line about a hundred bytes.
// prometheus-cpp's TextSerializer still writes the # HELP/# TYPE headers and
// histograms, and a unit test holds our lines byte-equal to its output.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <prometheus/metric_type.h>

#include "spool/file.h"

namespace metrics {

using Label = std::pair<std::string_view, std::string_view>;

// A label set rendered once as `{name="value",...}` (names checked, values
// escaped and made valid UTF-8): one table row feeds thirty families, and
// its labels are escaped once instead of thirty times.
class LabelSet {
 public:
  LabelSet() = default;
  LabelSet(std::initializer_list<Label> labels) { assign(labels.begin(), labels.end()); }
  explicit LabelSet(const std::vector<Label>& labels) { assign(labels.begin(), labels.end()); }
  // Throws std::invalid_argument on an invalid label name.
  template <typename It>
  void assign(It begin, It end);
  std::string_view text() const { return text_; }

 private:
  friend class Sink;
  void append(std::string_view name, std::string_view value);
  std::string text_;
  // Its number in the label table it was last added through (see Sink):
  // the thirty families of one row share one copy of the text.
  mutable uint64_t table_ = 0;
  mutable uint32_t id_ = 0;
};

// The label sets of a sink's samples, each once (see Sink).
struct LabelTable;
// One family's encoded lines over one label table.
class FamilyLines;

class Sink;

// A handle on one family inside a Sink.
class Family {
 public:
  void add(const LabelSet& labels, double value);
  void add(std::initializer_list<Label> labels, double value) { add(LabelSet(labels), value); }
  void add(const std::vector<Label>& labels, double value) { add(LabelSet(labels), value); }
  void add(double value) { add(LabelSet(), value); }
  // Room for `samples` more samples: a family of 20,000 samples otherwise
  // grows by copying itself a dozen times.
  void reserve(size_t samples);
  // One histogram sample (family declared with Sink::histogram): `buckets`
  // are (upper bound, cumulative count) pairs in increasing bound order; the
  // +Inf bucket is rendered from `count`.
  void add_histogram(const std::vector<Label>& labels,
                     const std::vector<std::pair<double, uint64_t>>& buckets, uint64_t count, double sum);

 private:
  friend class Sink;
  Family(Sink* sink, size_t index) : sink_(sink), index_(index) {}
  Sink* sink_;
  size_t index_;
};

class Sink {
 public:
  // A sample is kept encoded: the number of its label set in the sink's
  // label table and its value's text, about 8 bytes; the line's text is
  // written only as the body is sent (spool::Lines). With a spool file, a
  // family's encoded samples move to the file in blocks of kEncodedBlock
  // bytes, and text (histograms) in blocks of kSpoolBlock, so a large
  // exposition is never held in memory; without one (or once a write to it
  // failed), everything stays in memory. Sinks merged with absorb() must
  // share the file.
  static constexpr size_t kSpoolBlock = 64 * 1024;
  static constexpr size_t kEncodedBlock = 8 * 1024;
  // A label table's text goes to the file in blocks of this size as it
  // grows (and the rest once its collector is done, absorb()).
  static constexpr size_t kSpillLabels = 256 * 1024;
  Sink() = default;
  explicit Sink(std::shared_ptr<spool::File> spool) : spool_(std::move(spool)) {}
  // A copy shares the label table with its original: it never moves it to
  // the file (the original may be kept, Context::render_until_reload).
  Sink(const Sink& o)
      : spool_(o.spool_),
        families_(o.families_),
        index_(o.index_),
        labels_(o.labels_),
        labels_shared_(true) {}
  Sink& operator=(const Sink&) = delete;
  Sink(Sink&&) = default;
  Sink& operator=(Sink&&) = default;
  const std::shared_ptr<spool::File>& spool() const { return spool_; }

  // Declares (or finds) a family. Names are checked; a name reused with
  // another type throws std::invalid_argument.
  Family gauge(std::string_view name, std::string_view help);
  Family counter(std::string_view name, std::string_view help);
  Family untyped(std::string_view name, std::string_view help);
  Family histogram(std::string_view name, std::string_view help);
  Family family(std::string_view name, std::string_view help, prometheus::MetricType type);

  // Takes a family name without declaring it: absorb_new() treats it as
  // taken, and nothing is rendered for it unless it is declared later (then
  // at this position).
  void reserve(std::string_view name);
  // The names declared or reserved so far.
  std::vector<std::string> names() const;
  // Exposition lines rendered elsewhere (another process's sink), appended
  // as they are; the caller vouches that their families are new here.
  void append_rendered(std::string text);

  // Moves every family of `other` into this sink, merging same-named ones.
  void absorb(Sink&& other);
  // The same, but every family of `other` must be new here (else throws and
  // changes nothing): user-defined metrics never add to built-in families.
  void absorb_new(Sink&& other);

  // Room for `sets` more label sets of about `bytes` each, all the families
  // of a collector together (a row's label set is kept once for all of them).
  void reserve_label_sets(size_t sets, size_t bytes);

  size_t family_count() const { return families_.size(); }
  size_t sample_count() const;
  size_t byte_count() const;
  // The exposition, in declaration order, as pieces (each family's header and
  // its lines, in memory or in the spool file, as text or encoded): joining
  // them would hold a large scrape twice. The sink is empty afterwards.
  std::vector<spool::Piece> take_pieces();

 private:
  friend class Family;
  struct Entry {
    std::string name;  // "" for rendered text
    bool reserved = false;
    prometheus::MetricType type;
    std::string header;                 // its # HELP / # TYPE lines
    std::vector<spool::Piece> spooled;  // its first samples, in order
    std::string body;                   // its last samples as text (histograms), or
    std::string encoded;                // encoded, over `lines` (one of the two is empty)
    std::shared_ptr<const FamilyLines> lines;
    uint64_t encoded_text = 0;  // the size of `encoded` as text
    size_t samples = 0;
  };
  bool spooling() const { return spool_ && !spool_->failed(); }
  // Moves e.body to the spool file once it has grown to a block.
  void maybe_spool(Entry& e) {
    if (e.body.size() >= kSpoolBlock && spooling()) spool(e);
  }
  void spool(Entry& e);
  // Ends e's last text or encoded samples, as a piece: what follows is of
  // the other kind (or over another label table).
  void close_text(Entry& e);
  void close_encoded(Entry& e);
  void add_encoded(Entry& e, const LabelSet& labels, double value);
  LabelTable& label_table();
  // Moves the label table's text so far to the spool file (false: it stays).
  bool spill_labels();

  std::shared_ptr<spool::File> spool_;
  std::vector<Entry> families_;
  std::unordered_map<std::string, size_t> index_;
  std::shared_ptr<LabelTable> labels_;
  bool labels_shared_ = false;
};

// The # HELP / # TYPE lines of a family, as TextSerializer writes them
// (`help` already sanitised; no HELP line when it is empty).
std::string header_lines(const std::string& name, const std::string& help, prometheus::MetricType type);
// Appends `value` as prometheus-cpp's TextSerializer writes it (%.16g, Nan,
// +Inf, -Inf).
void append_value(std::string& out, double value);

// Prometheus name rules: [a-zA-Z_:][a-zA-Z0-9_:]* for metrics,
// [a-zA-Z_][a-zA-Z0-9_]* (not starting with __) for labels.
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);
// Turns arbitrary text (a setting name, say) into a valid name fragment.
std::string sanitize_name(std::string_view text);
// HELP text on one line without backslashes the serializer would not escape.
std::string sanitize_help(std::string_view text);

template <typename It>
void LabelSet::assign(It begin, It end) {
  text_.clear();
  size_t bytes = 1;  // one allocation for the usual, unescaped, labels
  for (It it = begin; it != end; ++it) bytes += it->first.size() + it->second.size() + 4;
  text_.reserve(bytes);
  for (It it = begin; it != end; ++it) append(it->first, it->second);
  if (!text_.empty()) text_.push_back('}');
}

}  // namespace metrics
