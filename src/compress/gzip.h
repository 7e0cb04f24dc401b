// One gzip stream (RFC 1952: a single member, what every HTTP client
// decodes), fed in steps so that a large body is never held twice. Built on
// ISA-L's igzip where the build finds it (about 4.5 times zlib's speed at
// level 1 on an exposition, with a slightly smaller output:
// bench/compress.cpp), else on zlib; the Makefile picks the file. Pure C++.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace codec {

class GzipStream {
 public:
  // `level`: 1 is the fast level of either library (the endpoint's).
  explicit GzipStream(int level);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Appends what `in` compresses to (maybe nothing yet) to *out; with
  // `finish`, the rest and the gzip trailer. False, and *error set, when the
  // library failed (then the stream is unusable).
  bool write(std::string_view in, bool finish, std::string* out, std::string* error);
  // Which library: "isa-l" or "zlib".
  static const char* library();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace codec
