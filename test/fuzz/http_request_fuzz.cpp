// libFuzzer harness for the HTTP request parser (the code that sees raw
// bytes from the network). Not part of `make`; build and run with:
//   clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//     test/fuzz/http_request_fuzz.cpp src/http/request.cpp -o /tmp/http_fuzz
//   /tmp/http_fuzz -max_total_time=60 -max_len=16384
// (needs Debian's libclang-rt-14-dev for the fuzzer runtime).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::Request req;
  std::string_view buf(reinterpret_cast<const char*>(data), size);
  // Walk a pipelined buffer the way the server does.
  for (int i = 0; i < 16 && !buf.empty(); i++) {
    http::ParseResult r = http::parse_request(buf, 4096, &req);
    if (r.status != http::ParseStatus::kComplete) break;
    if (r.consumed == 0 || r.consumed > buf.size()) __builtin_trap();
    buf.remove_prefix(r.consumed);
  }
  return 0;
}
