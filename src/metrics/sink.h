// What a collector writes its samples into. Pure C++ (prometheus-cpp data model).
// Families are built fresh for every scrape, so a label set that disappears
// from the database disappears from the output (no stale series).
//
// Samples are serialised (by prometheus-cpp's TextSerializer) in chunks of a
// few hundred as they are added: a ClientMetric costs over a kilobyte, its
// exposition line about a hundred bytes, and a database with 20,000 tables
// has hundreds of thousands of samples.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>

namespace metrics {

using Label = std::pair<std::string_view, std::string_view>;

class Sink;

// A handle on one family inside a Sink.
class Family {
 public:
  void add(std::initializer_list<Label> labels, double value);
  void add(const std::vector<Label>& labels, double value);
  void add(double value) { add({}, value); }
  // One histogram sample (family declared with Sink::histogram): `buckets`
  // are (upper bound, cumulative count) pairs in increasing bound order; the
  // +Inf bucket is rendered from `count`.
  void add_histogram(const std::vector<Label>& labels,
                     const std::vector<std::pair<double, uint64_t>>& buckets, uint64_t count, double sum);

 private:
  friend class Sink;
  Family(Sink* sink, size_t index) : sink_(sink), index_(index) {}
  template <typename It>
  void add_range(It begin, It end, double value);
  Sink* sink_;
  size_t index_;
};

class Sink {
 public:
  // Declares (or finds) a family. Names are checked; a name reused with
  // another type throws std::invalid_argument.
  Family gauge(std::string_view name, std::string_view help);
  Family counter(std::string_view name, std::string_view help);
  Family untyped(std::string_view name, std::string_view help);
  Family histogram(std::string_view name, std::string_view help);
  Family family(std::string_view name, std::string_view help, prometheus::MetricType type);

  // Moves every family of `other` into this sink, merging same-named ones.
  void absorb(Sink&& other);
  // The same, but every family of `other` must be new here (else throws and
  // changes nothing): user-defined metrics never add to built-in families.
  void absorb_new(Sink&& other);

  size_t family_count() const { return families_.size(); }
  size_t sample_count() const;
  // The exposition text of every family, in declaration order.
  std::string render();

 private:
  friend class Family;
  struct Entry {
    prometheus::MetricFamily family;  // name, help, type; samples not yet serialised
    std::string header;               // its # HELP / # TYPE lines
    std::string body;                 // its serialised sample lines
    size_t samples = 0;
  };
  static constexpr size_t kChunk = 256;
  void push(Entry& e, prometheus::ClientMetric&& m);
  static void flush(Entry& e);
  std::vector<Entry> families_;
  std::unordered_map<std::string, size_t> index_;
};

// Prometheus name rules: [a-zA-Z_:][a-zA-Z0-9_:]* for metrics,
// [a-zA-Z_][a-zA-Z0-9_]* (not starting with __) for labels.
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);
// Turns arbitrary text (a setting name, say) into a valid name fragment.
std::string sanitize_name(std::string_view text);
// HELP text on one line without backslashes the serializer would not escape.
std::string sanitize_help(std::string_view text);

}  // namespace metrics
