#include <cmath>
#include <stdexcept>

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
  CHECK(text.find("bad\xEF\xBF\xBD\xEF\xBF\xBD utf8") != std::string::npos);
  CHECK(text.find('\xff') == std::string::npos);
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
