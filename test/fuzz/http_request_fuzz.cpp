// libFuzzer target: the HTTP request parser (the code that sees raw bytes
// from the network), walking a pipelined buffer the way the server does, and
// checking that where the bytes are split does not change the result: the
// head alone parses to the same request, one byte less is incomplete.
// `make fuzz` builds it; .ci/fuzz.sh runs it on test/fuzz/corpus/http_request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/request.h"

namespace {

constexpr size_t kMaxHead = 4096;

bool valid_error(int status) {
  return status == 400 || status == 413 || status == 431 || status == 501 || status == 505;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes: ASan sees any read beyond it.
  std::string copy(reinterpret_cast<const char*>(data), size);
  std::string_view buf(copy);
  for (int i = 0; i < 16 && !buf.empty(); i++) {
    http::Request req;
    http::ParseResult r = http::parse_request(buf, kMaxHead, &req);
    if (r.status == http::ParseStatus::kError && !valid_error(r.error_status)) __builtin_trap();
    if (r.status != http::ParseStatus::kComplete) break;
    if (r.consumed == 0 || r.consumed > buf.size() || r.consumed > kMaxHead) __builtin_trap();
    if (req.path.empty() || req.target.compare(0, req.path.size(), req.path) != 0) __builtin_trap();

    // The same head received alone, and one byte short of it.
    http::Request again;
    http::ParseResult alone = http::parse_request(buf.substr(0, r.consumed), kMaxHead, &again);
    if (alone.status != http::ParseStatus::kComplete || alone.consumed != r.consumed ||
        again.method != req.method || again.target != req.target || again.keep_alive != req.keep_alive ||
        again.headers != req.headers)
      __builtin_trap();
    http::Request shorter;
    if (http::parse_request(buf.substr(0, r.consumed - 1), kMaxHead, &shorter).status !=
        http::ParseStatus::kIncomplete)
      __builtin_trap();
    buf.remove_prefix(r.consumed);
  }
  return 0;
}
