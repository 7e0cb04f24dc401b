// Histogram samples in the metric sink (pg_process_idle_seconds).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "collectors/versioned_sql.h"
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

// pg_wait_event_type is zero-filled with the classes of the server's version:
// a class the server does not have would be a series that can never move.
TEST(wait_event_types_per_version) {
  auto has = [](int v, const char* type) {
    for (const char* t : collectors::wait_event_types(v))
      if (std::string(t) == type) return true;
    return false;
  };
  for (int v : {130000, 140000, 150000, 160000, 170000, 180000, 190000}) {
    CHECK(has(v, "Lock"));
    CHECK(has(v, "LWLock"));
    CHECK(has(v, "IO"));
    CHECK_EQ(has(v, "BufferPin"), v < 190000);
    CHECK_EQ(has(v, "Buffer"), v >= 190000);
    CHECK_EQ(has(v, "InjectionPoint"), v >= 170000);
  }
}
