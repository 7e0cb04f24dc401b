// OpenMetrics from the text format, line by line while streaming.
#include <cmath>
#include <string>

#include "metrics/openmetrics.h"
#include "metrics/sink.h"
#include "metrics/render.h"
#include "unit.h"

namespace {

const char* kText =
    "# HELP pg_up Whether the database answers.\n"
    "# TYPE pg_up gauge\n"
    "pg_up 1\n"
    "# HELP pg_stat_database_xact_commit Transactions committed, \"inherited\" name.\n"
    "# TYPE pg_stat_database_xact_commit counter\n"
    "pg_stat_database_xact_commit{datname=\"a\"} 5\n"
    "# HELP pg_exporter_scrapes_total Scrapes.\n"
    "# TYPE pg_exporter_scrapes_total counter\n"
    "pg_exporter_scrapes_total 3\n"
    "# TYPE pg_settings_x untyped\n"
    "pg_settings_x Nan\n"
    "# HELP h_seconds A histogram \\\\ with a backslash.\n"
    "# TYPE h_seconds histogram\n"
    "h_seconds_bucket{le=\"1\"} 1\n"
    "h_seconds_bucket{le=\"+Inf\"} 2\n"
    "h_seconds_sum 3.5\n"
    "h_seconds_count 2\n";

const char* kOpenMetrics =
    "# HELP pg_up Whether the database answers.\n"
    "# TYPE pg_up gauge\n"
    "pg_up 1\n"
    "# HELP pg_stat_database_xact_commit Transactions committed, \\\"inherited\\\" name.\n"
    "# TYPE pg_stat_database_xact_commit unknown\n"
    "pg_stat_database_xact_commit{datname=\"a\"} 5\n"
    "# HELP pg_exporter_scrapes Scrapes.\n"
    "# TYPE pg_exporter_scrapes counter\n"
    "pg_exporter_scrapes_total 3\n"
    "# TYPE pg_settings_x unknown\n"
    "pg_settings_x NaN\n"
    "# HELP h_seconds A histogram \\\\ with a backslash.\n"
    "# TYPE h_seconds histogram\n"
    "h_seconds_bucket{le=\"1\"} 1\n"
    "h_seconds_bucket{le=\"+Inf\"} 2\n"
    "h_seconds_sum 3.5\n"
    "h_seconds_count 2\n"
    "# EOF\n";

}  // namespace

TEST(openmetrics_conversion) { CHECK_EQ(metrics::to_openmetrics(kText), kOpenMetrics); }

TEST(openmetrics_same_output_whatever_the_pieces) {
  const std::string text = kText;
  for (size_t step : {1u, 2u, 3u, 7u, 64u}) {
    metrics::OpenMetricsWriter w;
    std::string out;
    for (size_t i = 0; i < text.size(); i += step) w.feed(std::string_view(text).substr(i, step), &out);
    w.finish(&out);
    CHECK_EQ(out, kOpenMetrics);
  }
}

TEST(openmetrics_edges) {
  CHECK_EQ(metrics::to_openmetrics(""), "# EOF\n");
  // No final newline, blank lines, CRs and other comments.
  CHECK_EQ(metrics::to_openmetrics("# a comment\n\n# TYPE g gauge\r\ng 1"), "# TYPE g gauge\ng 1\n# EOF\n");
  // A HELP without its TYPE, and a HELP for another family than the TYPE after it.
  CHECK_EQ(metrics::to_openmetrics("# HELP a x\na 1\n"), "# HELP a x\na 1\n# EOF\n");
  CHECK_EQ(metrics::to_openmetrics("# HELP a x\n# TYPE b_total counter\nb_total 1\n"),
           "# HELP a x\n# TYPE b counter\nb_total 1\n# EOF\n");
  // "_total" alone is no family name.
  CHECK_EQ(metrics::to_openmetrics("# TYPE _total counter\n_total 1\n"),
           "# TYPE _total unknown\n_total 1\n# EOF\n");
  // A value "Nan" only at the end of a line; a label value is left alone.
  CHECK_EQ(metrics::to_openmetrics("# TYPE g gauge\ng{l=\" Nan\"} 1\n"),
           "# TYPE g gauge\ng{l=\" Nan\"} 1\n# EOF\n");
  CHECK_EQ(metrics::to_openmetrics("# TYPE g gauge\ng +Inf\ng -Inf\n"),
           "# TYPE g gauge\ng +Inf\ng -Inf\n# EOF\n");
}

TEST(openmetrics_from_the_sink) {
  // What the sink writes converts family by family (counters, gauges, histograms).
  metrics::Sink sink;
  sink.counter("pg_exporter_scrapes_total", "Scrapes.").add(2);
  sink.counter("pg_stat_bgwriter_buffers_alloc", "Buffers allocated.").add(7);
  sink.gauge("pg_x", "A \"quoted\" help.").add({{"a", "b\"c"}}, std::nan(""));
  sink.histogram("pg_h", "H.").add_histogram({{"app", "x"}}, {{0.5, 1}}, 3, 1.5);
  const std::string om = metrics::to_openmetrics(metrics::render(sink));
  CHECK(om.find("# TYPE pg_exporter_scrapes counter\npg_exporter_scrapes_total 2\n") != std::string::npos);
  CHECK(om.find("# TYPE pg_stat_bgwriter_buffers_alloc unknown\npg_stat_bgwriter_buffers_alloc 7\n") !=
        std::string::npos);
  CHECK(om.find("# HELP pg_x A \\\"quoted\\\" help.\n") != std::string::npos);
  CHECK(om.find("pg_x{a=\"b\\\"c\"} NaN\n") != std::string::npos);
  CHECK(om.find("pg_h_bucket{app=\"x\",le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(om.size() > 6 && om.substr(om.size() - 6) == "# EOF\n");
  CHECK(om.find("Nan") == std::string::npos);
}
