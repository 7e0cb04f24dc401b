// Incremental parser of one HTTP/1.x request head. Pure C++, no allocation
// beyond the Request it fills; every byte is untrusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

struct Request {
  std::string method;
  std::string target;  // as sent, e.g. "/metrics?x=1"
  std::string path;    // target without the query string
  int version_minor = 1;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  bool keep_alive = true;
  // Set by the server: names this request to Server::resolve() when the
  // handler answers it later (Response::deferred).
  uint64_t ticket = 0;

  // The first header with that lower-case name, or "".
  std::string_view header(std::string_view lower_name) const;
};

enum class ParseStatus { kIncomplete, kComplete, kError };

struct ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  int error_status = 0;  // with kError: 400, 413, 431, 501 or 505
  size_t consumed = 0;   // with kComplete: bytes of the head
};

// Parses the request head at the start of buf (more bytes may follow:
// pipelining). Bodies are not accepted: Content-Length > 0 is 413 and
// Transfer-Encoding is 501.
ParseResult parse_request(std::string_view buf, size_t max_head_bytes, Request* out);

}  // namespace http
