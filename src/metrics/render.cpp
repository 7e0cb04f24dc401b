#include "metrics/render.h"

namespace metrics {

std::string render(Sink& sink) { return sink.render(); }

}  // namespace metrics
