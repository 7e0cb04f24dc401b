// Content negotiation of the exposition: gzip from Accept-Encoding and
// OpenMetrics from Accept. Pure functions over untrusted header values.
#pragma once

#include <string_view>

namespace http {

// Whether the client takes a gzip-coded response: "gzip", "x-gzip" or "*"
// with a q-value above 0, and gzip not refused by "gzip;q=0".
bool accepts_gzip(std::string_view accept_encoding);

// Whether Accept ranks OpenMetrics text 1.0.0 (or 0.0.1, or no version) above
// the Prometheus text format (text/plain, or */*, the fallback). Ties go to
// the first listed. An empty header: text format.
bool prefers_openmetrics(std::string_view accept);

}  // namespace http
