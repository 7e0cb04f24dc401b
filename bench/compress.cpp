// zlib against libdeflate on an exposition file, the way the endpoint would
// use each: zlib as one gzip stream fed in 64 KiB steps (what BodyStream
// does: no second copy of the body), libdeflate (which has no streaming API)
// either on the whole body at once (a second, compressed copy in memory) or
// on each 64 KiB block as its own gzip member (streamable, a multi-member
// gzip that not every client decodes), and ISA-L's igzip as one gzip stream
// in 64 KiB steps (streams like zlib). CPU time of this process, best of 3.
// Build: g++ -O2 -o compress bench/compress.cpp -lz -ldeflate -lisal
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <time.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr size_t kBlock = 64 * 1024;

double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

size_t zlib_stream(const std::string& in, int level) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  size_t out = 0;
  unsigned char buf[16384];
  for (size_t pos = 0;; pos += kBlock) {
    const bool last = pos >= in.size();
    const size_t n = last ? 0 : std::min(kBlock, in.size() - pos);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + (last ? 0 : pos)));
    z.avail_in = static_cast<uInt>(n);
    for (;;) {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      int rc = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
      out += sizeof buf - z.avail_out;
      if (last ? rc == Z_STREAM_END : (z.avail_in == 0 && z.avail_out != 0)) break;
    }
    if (last) break;
  }
  deflateEnd(&z);
  return out;
}

// ISA-L's levels are 0..3; `level` 1 is its fast default.
size_t isal_stream(const std::string& in, int level) {
  isal_zstream z;
  isal_deflate_init(&z);
  z.gzip_flag = IGZIP_GZIP;
  z.level = static_cast<uint32_t>(level);
  std::vector<uint8_t> level_buf(level == 0 ? 0 : level == 1 ? ISAL_DEF_LVL1_DEFAULT
                                               : level == 2   ? ISAL_DEF_LVL2_DEFAULT
                                                              : ISAL_DEF_LVL3_DEFAULT);
  z.level_buf = level_buf.empty() ? nullptr : level_buf.data();
  z.level_buf_size = static_cast<uint32_t>(level_buf.size());
  size_t out = 0;
  uint8_t buf[16384];
  for (size_t pos = 0;; pos += kBlock) {
    const bool last = pos >= in.size();
    const size_t n = last ? 0 : std::min(kBlock, in.size() - pos);
    z.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data() + (last ? 0 : pos)));
    z.avail_in = static_cast<uint32_t>(n);
    z.end_of_stream = last ? 1 : 0;
    for (;;) {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      if (isal_deflate(&z) != COMP_OK) return 0;
      out += sizeof buf - z.avail_out;
      if (last ? z.internal_state.state == ZSTATE_END : (z.avail_in == 0 && z.avail_out != 0)) break;
    }
    if (last) break;
  }
  return out;
}

size_t deflate_whole(const std::string& in, int level) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(level);
  std::vector<char> out(libdeflate_gzip_compress_bound(c, in.size()));
  size_t n = libdeflate_gzip_compress(c, in.data(), in.size(), out.data(), out.size());
  libdeflate_free_compressor(c);
  return n;
}

size_t deflate_members(const std::string& in, int level) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(level);
  std::vector<char> out(libdeflate_gzip_compress_bound(c, kBlock));
  size_t total = 0;
  for (size_t pos = 0; pos < in.size(); pos += kBlock) {
    const size_t n = std::min(kBlock, in.size() - pos);
    total += libdeflate_gzip_compress(c, in.data() + pos, n, out.data(), out.size());
  }
  libdeflate_free_compressor(c);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s EXPOSITION_FILE\n", argv[0]);
    return 2;
  }
  std::ifstream f(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string in = ss.str();
  struct Case {
    const char* name;
    int level;
    std::function<size_t(const std::string&, int)> fn;
    const char* note;
  };
  std::vector<Case> cases = {
      {"zlib, one stream in 64 KiB steps", 1, zlib_stream, "streams; what the endpoint does"},
      {"zlib, one stream in 64 KiB steps", 3, zlib_stream, "streams"},
      {"zlib, one stream in 64 KiB steps", 6, zlib_stream, "streams (zlib's default level)"},
      {"ISA-L igzip, one stream in 64 KiB steps", 1, isal_stream, "streams"},
      {"ISA-L igzip, one stream in 64 KiB steps", 2, isal_stream, "streams"},
      {"libdeflate, whole body", 1, deflate_whole, "needs the whole body in memory"},
      {"libdeflate, whole body", 6, deflate_whole, "needs the whole body in memory"},
      {"libdeflate, a gzip member per 64 KiB", 1, deflate_members, "streams; multi-member gzip"},
      {"libdeflate, a gzip member per 64 KiB", 6, deflate_members, "streams; multi-member gzip"},
  };
  std::printf("input: %zu bytes\n\n", in.size());
  std::printf("| codec | level | compressed bytes | ratio | CPU ms (best of 3) | MB/s | note |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---|\n");
  for (const Case& c : cases) {
    double best = 1e18;
    size_t bytes = 0;
    for (int round = 0; round < 3; round++) {
      double t0 = cpu_ms();
      bytes = c.fn(in, c.level);
      best = std::min(best, cpu_ms() - t0);
    }
    std::printf("| %s | %d | %zu | %.1f | %.1f | %.0f | %s |\n", c.name, c.level, bytes,
                static_cast<double>(in.size()) / bytes, best, in.size() / 1e6 / (best / 1e3), c.note);
  }
  return 0;
}
