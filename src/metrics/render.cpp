#include "metrics/render.h"

namespace metrics {

std::string render(Sink& sink) {
  std::string out;
  out.reserve(sink.byte_count());
  for (std::string& part : sink.take_text()) {
    out += part;
    std::string().swap(part);  // give the memory back as we go
  }
  return out;
}

}  // namespace metrics
