// Histogram samples in the metric sink (pg_process_idle_seconds).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "metrics/render.h"
#include "metrics/sink.h"
#include "unit.h"

TEST(histogram_renders_cumulative_buckets_and_inf) {
  metrics::Sink s;
  std::vector<std::pair<double, uint64_t>> buckets = {{1, 1}, {5, 2}, {300, 2}};
  s.histogram("pg_process_idle_seconds", "h")
      .add_histogram({{"application_name", "psql"}}, buckets, 3, 400.5);
  CHECK_EQ(s.sample_count(), 1u);
  std::string text = metrics::render(s);
  CHECK(text.find("# TYPE pg_process_idle_seconds histogram\n") != std::string::npos);
  CHECK(text.find("pg_process_idle_seconds_count{application_name=\"psql\"} 3\n") != std::string::npos);
  CHECK(text.find("pg_process_idle_seconds_sum{application_name=\"psql\"} 400.5\n") != std::string::npos);
  CHECK(text.find("pg_process_idle_seconds_bucket{application_name=\"psql\",le=\"1\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("pg_process_idle_seconds_bucket{application_name=\"psql\",le=\"300\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("pg_process_idle_seconds_bucket{application_name=\"psql\",le=\"+Inf\"} 3\n") !=
        std::string::npos);
}

TEST(histogram_and_scalar_samples_do_not_mix) {
  metrics::Sink s;
  bool threw = false;
  try {
    s.histogram("h_seconds", "h").add(1);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  threw = false;
  try {
    s.gauge("g", "h").add_histogram({}, {}, 0, 0);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  threw = false;
  try {
    s.histogram("h2_seconds", "h").add_histogram({{"le", "1"}}, {}, 0, 0);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}
