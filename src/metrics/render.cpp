#include "metrics/render.h"

#include <stdexcept>

namespace metrics {

std::string render(Sink& sink) {
  std::string out;
  out.reserve(sink.byte_count());
  const std::shared_ptr<spool::File> file = sink.spool();
  std::string chunk;
  for (spool::Piece& part : sink.take_pieces()) {
    if (!part.in_file()) {
      out += part.text;
      std::string().swap(part.text);  // give the memory back as we go
      continue;
    }
    if (!file || !file->read(part.file_offset, part.file_length, &chunk)) {
      throw std::runtime_error("could not read back the exposition's temporary file");
    }
    out += chunk;
  }
  return out;
}

}  // namespace metrics
