#include "metrics/render.h"

#include <stdexcept>

namespace metrics {

void append_piece(const spool::Piece& piece, const spool::File* file, std::string& out,
                  spool::Lines::Cache& cache) {
  std::string stored;
  const std::string* bytes = &piece.text;
  if (piece.in_file()) {
    if (file == nullptr || !file->read(piece.file_offset, piece.file_length, &stored)) {
      throw std::runtime_error("could not read back the exposition's temporary file");
    }
    bytes = &stored;
  }
  if (!piece.encoded()) {
    out += *bytes;
    return;
  }
  size_t pos = 0;
  std::string error;
  if (!piece.lines->render(*bytes, &pos, &out, SIZE_MAX, cache, &error)) throw std::runtime_error(error);
}

std::string render(Sink& sink) {
  std::string out;
  out.reserve(sink.byte_count());
  const std::shared_ptr<spool::File> file = sink.spool();
  spool::Lines::Cache cache;
  for (spool::Piece& part : sink.take_pieces()) {
    append_piece(part, file.get(), out, cache);
    std::string().swap(part.text);  // give the memory back as we go
  }
  return out;
}

}  // namespace metrics
