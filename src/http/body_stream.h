// A response body on its way to the socket: the body's pieces (memory, or
// ranges of a spool file), turned into OpenMetrics and/or gzip-compressed
// and chunk-framed as they are sent, so that a 60 MB scrape is never held
// a second time in any form. Each step does bounded work (one input block),
// so a large compressed body does not stall the event loop. Pure C++.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "compress/gzip.h"
#include "http/response.h"
#include "metrics/openmetrics.h"

namespace http {

struct StreamOptions {
  bool openmetrics = false;  // convert text 0.0.4 to OpenMetrics
  bool gzip = false;
  bool chunked = false;  // Transfer-Encoding: chunked framing
  bool sendfile = true;  // spool-file ranges may be handed out as ranges
  int gzip_level = 1;
};

class BodyStream {
 public:
  // Bytes to send next: a memory range, or (identity only, with
  // options.sendfile) a range of a file.
  struct Out {
    const char* data = nullptr;
    size_t len = 0;
    int file_fd = -1;
    uint64_t file_offset = 0;
    uint64_t file_len = 0;
    bool more = false;  // more follows (MSG_MORE)
  };

  static constexpr size_t kBlock = 64 * 1024;

  BodyStream(std::shared_ptr<const Body> body, const StreamOptions& options);
  ~BodyStream();
  BodyStream(const BodyStream&) = delete;
  BodyStream& operator=(const BodyStream&) = delete;

  // False when everything has been sent (or on error: then *error is set).
  bool next(Out* out, std::string* error);
  // `n` bytes of what next() gave were sent.
  void consumed(uint64_t n);
  // Whether the body is transformed (no Content-Length known ahead).
  bool transformed() const { return transform_; }
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  // Reads the next input block into *view (a piece's text or file_buf_).
  bool read_input(std::string_view* view, std::string* error);
  // The next block of an encoded piece's text into *out.
  bool render_block(const spool::Piece& p, std::string* out, std::string* error);
  void next_part();
  bool produce(std::string* error);
  void frame(const std::string& data);

  std::shared_ptr<const Body> body_;
  StreamOptions opt_;
  bool transform_ = false;
  size_t part_ = 0;
  uint64_t offset_ = 0;  // within the current part
  std::string file_buf_;
  // An encoded piece: its bytes (read from the file), how far they are
  // written out, and (identity) the text not yet sent.
  std::string encoded_;
  spool::Lines::Cache labels_;
  bool encoded_loaded_ = false;
  size_t encoded_pos_ = 0;
  std::string pending_;
  size_t pending_pos_ = 0;
  bool from_pending_ = false;
  // Transformed output waiting to be sent.
  std::string out_;
  size_t out_pos_ = 0;
  bool finished_ = false;
  std::unique_ptr<metrics::OpenMetricsWriter> om_;
  std::unique_ptr<codec::GzipStream> gzip_;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
};

}  // namespace http
