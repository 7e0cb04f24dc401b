#include "metrics/render.h"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace metrics {

std::string render(const Sink& sink) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, sink.families());
  return out.str();
}

}  // namespace metrics
