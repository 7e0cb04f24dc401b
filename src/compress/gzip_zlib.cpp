// codec::GzipStream on zlib (where the build has no ISA-L).
#include <zlib.h>

#include <cstring>

#include "compress/gzip.h"

namespace codec {

struct GzipStream::State {
  z_stream z;
  bool ready = false;
  bool failed = false;
};

GzipStream::GzipStream(int level) : state_(std::make_unique<State>()) {
  std::memset(&state_->z, 0, sizeof state_->z);
  // 15 + 16: a gzip header and trailer around the deflate stream.
  state_->ready = deflateInit2(&state_->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipStream::~GzipStream() {
  if (state_->ready) deflateEnd(&state_->z);
}

const char* GzipStream::library() { return "zlib"; }

bool GzipStream::write(std::string_view in, bool finish, std::string* out, std::string* error) {
  z_stream& z = state_->z;
  if (!state_->ready || state_->failed) {
    *error = state_->ready ? "gzip: the stream failed before" : "gzip: could not initialise zlib";
    return false;
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  unsigned char buf[16384];
  for (;;) {
    z.next_out = buf;
    z.avail_out = sizeof buf;
    const int rc = deflate(&z, finish ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_ERROR) {
      state_->failed = true;
      *error = "gzip: deflate failed";
      return false;
    }
    out->append(reinterpret_cast<char*>(buf), sizeof buf - z.avail_out);
    if (finish ? rc == Z_STREAM_END : (z.avail_in == 0 && z.avail_out != 0)) break;
  }
  return true;
}

}  // namespace codec
