// Prometheus text exposition format 0.0.4.
#pragma once

#include <string>

#include "metrics/sink.h"

namespace metrics {

constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// The whole exposition as one string (the SQL function, tests). The HTTP
// endpoint sends Sink::take_pieces()'s pieces instead. Empties the sink.
std::string render(Sink& sink);

}  // namespace metrics
