// Prometheus text exposition format 0.0.4, through prometheus-cpp.
#pragma once

#include <string>

#include "metrics/sink.h"

namespace metrics {

constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render(const Sink& sink);

}  // namespace metrics
