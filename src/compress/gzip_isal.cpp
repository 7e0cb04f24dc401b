// codec::GzipStream on ISA-L's igzip (libisal).
#include <isa-l/igzip_lib.h>

#include <cstdint>
#include <vector>

#include "compress/gzip.h"

namespace codec {

struct GzipStream::State {
  isal_zstream z;
  std::vector<uint8_t> level_buf;
  bool failed = false;
};

GzipStream::GzipStream(int level) : state_(std::make_unique<State>()) {
  isal_deflate_init(&state_->z);
  state_->z.gzip_flag = IGZIP_GZIP;
  // igzip's levels are 0 to 3; its level 1 is the fast one, as zlib's.
  const uint32_t l = level <= 1 ? 1 : level == 2 ? 2 : 3;
  state_->z.level = l;
  state_->level_buf.resize(l == 1   ? ISAL_DEF_LVL1_DEFAULT
                           : l == 2 ? ISAL_DEF_LVL2_DEFAULT
                                    : ISAL_DEF_LVL3_DEFAULT);
  state_->z.level_buf = state_->level_buf.data();
  state_->z.level_buf_size = static_cast<uint32_t>(state_->level_buf.size());
}

GzipStream::~GzipStream() = default;

const char* GzipStream::library() { return "isa-l"; }

bool GzipStream::write(std::string_view in, bool finish, std::string* out, std::string* error) {
  isal_zstream& z = state_->z;
  if (state_->failed) {
    *error = "gzip: the stream failed before";
    return false;
  }
  z.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uint32_t>(in.size());
  z.end_of_stream = finish ? 1 : 0;
  z.flush = NO_FLUSH;
  uint8_t buf[16384];
  for (;;) {
    z.next_out = buf;
    z.avail_out = sizeof buf;
    if (isal_deflate(&z) != COMP_OK) {
      state_->failed = true;
      *error = "gzip: isal_deflate failed";
      return false;
    }
    out->append(reinterpret_cast<char*>(buf), sizeof buf - z.avail_out);
    if (finish ? z.internal_state.state == ZSTATE_END : (z.avail_in == 0 && z.avail_out != 0)) break;
  }
  return true;
}

}  // namespace codec
