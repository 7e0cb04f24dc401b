// Prometheus text exposition format 0.0.4.
#pragma once

#include <string>

#include "metrics/sink.h"

namespace metrics {

constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// The whole exposition as one string (the SQL function, tests). The HTTP
// endpoint sends Sink::take_pieces()'s pieces instead. Empties the sink.
std::string render(Sink& sink);

// Appends a piece's text (read back from `file`, encoded lines written out,
// `cache` kept from one piece to the next); throws std::runtime_error when it
// cannot.
void append_piece(const spool::Piece& piece, const spool::File* file, std::string& out,
                  spool::Lines::Cache& cache);

}  // namespace metrics
