// Prometheus text exposition format 0.0.4, through prometheus-cpp.
#pragma once

#include <string>

#include "metrics/sink.h"

namespace metrics {

constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// Consumes the sink's serialised samples (it is empty afterwards).
std::string render(Sink& sink);

}  // namespace metrics
