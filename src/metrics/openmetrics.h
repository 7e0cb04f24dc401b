// OpenMetrics 1.0 text, made from the Prometheus text format 0.0.4 the sink
// writes, while it is sent: one body serves both formats (no second copy of
// a 60 MB scrape), and the transformation is a line filter with a carry of
// at most one line.
//
// What changes:
// - A counter whose name ends in _total is declared as family <name minus
//   _total> (its samples keep their names).
// - A counter without _total (the names postgres_exporter's counters have
//   always had, such as pg_stat_database_xact_commit) is declared `unknown`:
//   OpenMetrics would have its samples renamed to <name>_total, which would
//   break every dashboard and alert written for the inherited names. Its
//   series keep their names; Prometheus stores them as it stores untyped
//   ones. `untyped` becomes `unknown` too.
// - HELP text has its double quotes escaped, NaN is spelled NaN, and the
//   exposition ends with "# EOF". Other comments and blank lines go.
#pragma once

#include <string>
#include <string_view>

namespace metrics {

constexpr const char* kOpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

class OpenMetricsWriter {
 public:
  // Appends the OpenMetrics form of the complete lines in `text` to `out`
  // and keeps an unfinished last line for the next call.
  void feed(std::string_view text, std::string* out);
  // The rest, and "# EOF".
  void finish(std::string* out);

 private:
  void line(std::string_view l, std::string* out);
  void flush_help(std::string* out);

  std::string carry_;
  std::string help_name_, help_text_;
  bool help_pending_ = false;
};

// The whole conversion at once (tests, the SQL function).
std::string to_openmetrics(std::string_view text);

}  // namespace metrics
