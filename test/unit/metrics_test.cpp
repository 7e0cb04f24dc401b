#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>
#include <sstream>
#include <stdexcept>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "metrics/render.h"
#include "metrics/sink.h"
#include "pg/result.h"
#include "unit.h"

TEST(names_validated) {
  CHECK(metrics::valid_metric_name("pg_up"));
  CHECK(metrics::valid_metric_name("a:b_c1"));
  CHECK(!metrics::valid_metric_name("1abc"));
  CHECK(!metrics::valid_metric_name("a-b"));
  CHECK(!metrics::valid_metric_name(""));
  CHECK(metrics::valid_label_name("datname"));
  CHECK(!metrics::valid_label_name("__reserved"));
  CHECK(!metrics::valid_label_name("a:b"));
  CHECK_EQ(metrics::sanitize_name("pg_stat_statements.max"), "pg_stat_statements_max");
  CHECK_EQ(metrics::sanitize_name("9lives"), "_9lives");
}

TEST(help_is_one_escaped_line) { CHECK_EQ(metrics::sanitize_help("a\\b\nc"), "a\\\\b c"); }

TEST(sink_rejects_bad_names_and_type_clashes) {
  metrics::Sink s;
  bool threw = false;
  try {
    s.gauge("bad name", "x");
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  s.gauge("x", "help");
  threw = false;
  try {
    s.counter("x", "help");
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

TEST(sink_merges_families_and_renders) {
  metrics::Sink a, b;
  a.gauge("m", "h").add({{"l", "1"}}, 1);
  b.gauge("m", "h").add({{"l", "2"}}, 2);
  b.counter("c_total", "h").add(3);
  a.absorb(std::move(b));
  CHECK_EQ(a.family_count(), 2u);
  CHECK_EQ(a.sample_count(), 3u);
  std::string text = metrics::render(a);
  CHECK(text.find("# TYPE m gauge\nm{l=\"1\"} 1\nm{l=\"2\"} 2\n") != std::string::npos);
  CHECK(text.find("# TYPE c_total counter\nc_total 3\n") != std::string::npos);
}

TEST(label_values_escaped_and_valid_utf8) {
  metrics::Sink s;
  s.gauge("m", "h").add({{"v", "a\"b\\c\nd"}}, 1);
  s.gauge("m", "h").add({{"v", std::string("bad\xff\xfe utf8")}}, 2);
  std::string text = metrics::render(s);
  CHECK(text.find("m{v=\"a\\\"b\\\\c\\nd\"} 1") != std::string::npos);
  CHECK(text.find("bad\xEF\xBF\xBD"
                  "FF\xEF\xBF\xBD"
                  "FE utf8") != std::string::npos);
  CHECK(text.find('\xff') == std::string::npos);
}

// Two names that differ only in invalid bytes, or in an invalid byte against
// the replacement character spelled out, stay two series (one would be a
// duplicate that makes Prometheus reject the whole scrape).
TEST(label_value_sanitising_keeps_names_apart) {
  metrics::Sink s;
  metrics::Family f = s.gauge("m", "h");
  const std::string names[] = {"t\xe9", "t\xe8",
                               "t\xEF\xBF\xBD"
                               "E9",
                               "t\xEF\xBF\xBD"
                               "U",
                               "t\xEF\xBF\xBD"};
  for (const auto& n : names) f.add({{"relname", n}}, 1);
  std::string text = metrics::render(s);
  std::set<std::string> lines;
  size_t count = 0;
  for (size_t at = 0; (at = text.find("m{", at)) != std::string::npos; at++) {
    lines.insert(text.substr(at, text.find('\n', at) - at));
    count++;
  }
  CHECK_EQ(count, 5u);
  CHECK_EQ(lines.size(), 5u);
}

TEST(pg_numbers_parsed_never_silently_zero) {
  CHECK_EQ(pgx::parse_pg_number("123").value_or(-1), 123.0);
  CHECK_EQ(pgx::parse_pg_number("-1.5").value_or(0), -1.5);
  // A NUMERIC LSN difference larger than any int64.
  CHECK(pgx::parse_pg_number("123456789012345678901234567890").value_or(0) > 1e29);
  CHECK_EQ(pgx::parse_pg_number("t").value_or(-1), 1.0);
  CHECK_EQ(pgx::parse_pg_number("off").value_or(-1), 0.0);
  CHECK(std::isnan(pgx::parse_pg_number("NaN").value_or(0)));
  CHECK(std::isinf(pgx::parse_pg_number("Infinity").value_or(0)));
  CHECK(!pgx::parse_pg_number(""));
  CHECK(!pgx::parse_pg_number("12abc"));
  CHECK(!pgx::parse_pg_number("0/16B3748"));
  CHECK(!pgx::parse_pg_number(std::string(1000, '9')));
}

TEST(result_set_by_name) {
  pgx::ResultSet rs;
  rs.reset(2);
  rs.set_column_name(0, "datname");
  rs.set_column_name(1, "size");
  rs.add_row();
  rs.set_cell(0, "postgres");
  rs.set_cell(1, "8000");
  rs.add_row();
  rs.set_cell(0, "x");
  rs.set_cell(1, nullptr);
  CHECK_EQ(rs.rows(), 2u);
  CHECK_EQ(rs.column("size"), 1);
  CHECK_EQ(rs.column("nope"), -1);
  CHECK(rs.text(0, 0) == "postgres");
  CHECK(!rs.number(1, 1).has_value());
  CHECK(rs.is_null(1, 1));
}

// Samples are serialised in chunks as they are added: the rendering must
// still hold one header per family and every sample in the order added,
// also across absorb().
TEST(chunked_serialisation_keeps_one_header_and_order) {
  metrics::Sink a;
  metrics::Family f = a.counter("big_total", "Many samples.");
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; i++) ids.push_back(std::to_string(i));
  for (int i = 0; i < 600; i++) f.add({{"id", ids[i]}}, i);
  metrics::Sink b;
  metrics::Family g = b.counter("big_total", "Other help.");
  for (int i = 600; i < 1000; i++) g.add({{"id", ids[i]}}, i);
  b.gauge("other", "x").add(1);
  a.absorb(std::move(b));
  CHECK_EQ(a.sample_count(), 1001u);
  std::string text = metrics::render(a);
  size_t headers = 0, pos = 0;
  while ((pos = text.find("# TYPE big_total counter\n", pos)) != std::string::npos) headers++, pos++;
  CHECK_EQ(headers, 1u);
  size_t last = 0;
  bool ordered = true;
  for (int i = 0; i < 1000; i++) {
    size_t at = text.find("big_total{id=\"" + ids[i] + "\"} " + ids[i] + "\n");
    if (at == std::string::npos || at < last) ordered = false;
    last = at;
  }
  CHECK(ordered);
  CHECK(text.find("# HELP big_total Many samples.\n") != std::string::npos);
  CHECK(text.find("other 1\n") != std::string::npos);
}

namespace {
// What prometheus-cpp's TextSerializer writes for these samples, header lines dropped.
std::string reference_lines(prometheus::MetricType type, const std::vector<std::vector<metrics::Label>>& sets,
                            const std::vector<double>& values) {
  prometheus::MetricFamily f;
  f.name = "m";
  f.help = "h";
  f.type = type;
  for (const auto& set : sets) {
    for (double v : values) {
      prometheus::ClientMetric m;
      for (const auto& l : set) m.label.push_back({std::string(l.first), std::string(l.second)});
      if (type == prometheus::MetricType::Counter) {
        m.counter.value = v;
      } else if (type == prometheus::MetricType::Gauge) {
        m.gauge.value = v;
      } else {
        m.untyped.value = v;
      }
      f.metric.push_back(m);
    }
  }
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, {f});
  std::string s = text.str();
  while (!s.empty() && s[0] == '#') s.erase(0, s.find('\n') + 1);
  return s;
}
}  // namespace

// Our line writer must produce exactly what prometheus-cpp would: values of
// every kind (integers around 1e16, fractions, extremes, -0, NaN, infinities,
// random doubles) and label sets with every character that needs escaping.
TEST(lines_equal_prometheus_cpp_text_serializer) {
  std::vector<double> values = {0,
                                -0.0,
                                1,
                                -1,
                                0.1,
                                1.0 / 3,
                                1e15,
                                1e16 - 2,
                                1e16,
                                1e16 + 2,
                                -1e16 + 2,
                                9007199254740993.0,
                                1e20,
                                123456789012345678.0,
                                1e-7,
                                5e-324,
                                1.7976931348623157e308,
                                -2.5e-300,
                                0.5,
                                100,
                                42.25,
                                1e300,
                                std::nan(""),
                                INFINITY,
                                -INFINITY,
                                4503599627370495.5,
                                1e-5,
                                123.456e10};
  uint64_t x = 88172645463325252ull;  // xorshift: reproducible random bit patterns
  for (int i = 0; i < 3000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double d;
    std::memcpy(&d, &x, sizeof d);
    values.push_back(d);
    values.push_back(static_cast<double>(static_cast<int64_t>(x >> (i % 64))) * (i % 3 == 0 ? -1 : 1));
    values.push_back(static_cast<double>(x % 1000000) / 1000.0);
  }
  const std::vector<std::vector<metrics::Label>> sets = {
      {}, {{"a", "plain"}}, {{"a", "q\"uote"}, {"b", "back\\slash"}, {"c", "new\nline\ttab"}}, {{"x_1", ""}}};
  for (auto type :
       {prometheus::MetricType::Counter, prometheus::MetricType::Gauge, prometheus::MetricType::Untyped}) {
    metrics::Sink s;
    metrics::Family fam = s.family("m", "h", type);
    for (const auto& set : sets) {
      metrics::LabelSet labels(set);
      for (double v : values) fam.add(labels, v);
    }
    std::string ours = metrics::render(s);
    ours.erase(0, ours.find("\nm") + 1);  // drop the header lines
    const std::string want = reference_lines(type, sets, values);
    CHECK_EQ(ours.size(), want.size());
    CHECK(ours == want);
  }
}

TEST(histogram_lines_come_from_prometheus_cpp) {
  metrics::Sink s;
  s.histogram("h_seconds", "help").add_histogram({{"app", "a\"b"}}, {{1, 2}, {10, 5}}, 7, 30.5);
  const std::string text = metrics::render(s);
  CHECK(text.find("# TYPE h_seconds histogram\n") != std::string::npos);
  CHECK(text.find("h_seconds_bucket{app=\"a\\\"b\",le=\"1\"} 2\n") != std::string::npos);
  CHECK(text.find("h_seconds_bucket{app=\"a\\\"b\",le=\"+Inf\"} 7\n") != std::string::npos);
  CHECK(text.find("h_seconds_sum{app=\"a\\\"b\"} 30.5\n") != std::string::npos);
  CHECK(text.find("h_seconds_count{app=\"a\\\"b\"} 7\n") != std::string::npos);
}

TEST(take_pieces_gives_header_and_body_pieces_in_order) {
  metrics::Sink s;
  s.gauge("a", "ha").add(1);
  s.gauge("empty", "he");
  s.counter("b_total", "hb").add({{"l", "x"}}, 2);
  const size_t bytes = s.byte_count();
  std::vector<spool::Piece> parts = s.take_pieces();
  std::string joined;
  for (const auto& p : parts) {
    CHECK(!p.in_file());
    joined += p.text;
  }
  CHECK_EQ(joined.size(), bytes);
  CHECK(joined.find("# TYPE a gauge\na 1\n# HELP empty he\n# TYPE empty gauge\n# HELP b_total hb\n") !=
        std::string::npos);
  CHECK(joined.find("b_total{l=\"x\"} 2\n") != std::string::npos);
  CHECK_EQ(s.family_count(), 0u);
}

TEST(take_pieces_joins_small_families_into_blocks) {
  metrics::Sink s;
  const size_t families = 3000;
  for (size_t i = 0; i < families; i++) s.gauge("g" + std::to_string(i), "help").add(static_cast<double>(i));
  const size_t bytes = s.byte_count();
  std::vector<spool::Piece> parts = s.take_pieces();
  // ~120 kB in ~6,000 header and body pieces: a few blocks, none over the limit.
  CHECK(parts.size() <= bytes / metrics::Sink::kSpoolBlock + 2);
  std::string joined;
  for (const auto& p : parts) {
    CHECK(p.text.size() <= metrics::Sink::kSpoolBlock);
    joined += p.text;
  }
  CHECK_EQ(joined.size(), bytes);
  CHECK(joined.find("# TYPE g2999 gauge\ng2999 2999\n") != std::string::npos);
  // A piece larger than a block is passed on whole, not split or copied twice.
  metrics::Sink big;
  big.gauge("small", "h").add(1);
  metrics::Family f = big.gauge("large", "h");
  for (int i = 0; i < 10000; i++) f.add({{"i", std::to_string(i)}}, i);
  big.gauge("after", "h").add(2);
  const size_t big_bytes = big.byte_count();
  parts = big.take_pieces();
  size_t total = 0, largest = 0;
  for (const auto& p : parts) {
    total += p.size();
    largest = std::max<size_t>(largest, p.size());
  }
  CHECK_EQ(total, big_bytes);
  CHECK(largest > metrics::Sink::kSpoolBlock);
}

TEST(header_lines_equal_prometheus_cpp_text_serializer) {
  for (auto type :
       {prometheus::MetricType::Counter, prometheus::MetricType::Gauge, prometheus::MetricType::Untyped,
        prometheus::MetricType::Histogram, prometheus::MetricType::Summary}) {
    for (const char* help : {"", "plain help", "with \\\\ backslash and \" quote", "ünïcödé"}) {
      prometheus::MetricFamily f;
      f.name = "pg_x_total";
      f.help = help;
      f.type = type;
      std::ostringstream text;
      prometheus::TextSerializer().Serialize(text, {f});
      CHECK_EQ(metrics::header_lines(f.name, f.help, type), text.str());
    }
  }
}
