#include "http/response.h"

#include <stdexcept>

namespace http {

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

Body::Body(std::string text) : size_(text.size()) {
  if (!text.empty()) parts_.push_back(spool::Piece{std::move(text)});
}

Body::Body(std::vector<spool::Piece> pieces, std::shared_ptr<const spool::File> file)
    : file_(std::move(file)) {
  for (spool::Piece& p : pieces) {
    if (p.size() == 0) continue;
    if (p.in_file() && !file_) throw std::invalid_argument("body piece in a file but no file given");
    size_ += p.size();
    parts_.push_back(std::move(p));
  }
}

std::string serialize_head(const Response& r, bool keep_alive) { return serialize_head(r, keep_alive, {}); }

std::string serialize_head(const Response& r, bool keep_alive, const HeadOptions& o) {
  size_t len = r.body ? r.body->size() : 0;
  std::string h;
  h.reserve(256);
  h += "HTTP/1.1 ";
  h += std::to_string(r.status);
  h += ' ';
  h += reason_phrase(r.status);
  h += "\r\nContent-Type: ";
  h += r.content_type;
  if (o.chunked) {
    h += "\r\nTransfer-Encoding: chunked";
  } else if (!o.length_unknown) {
    h += "\r\nContent-Length: ";
    h += std::to_string(len);
  }
  if (o.gzip) h += "\r\nContent-Encoding: gzip";
  if (o.vary) h += r.exposition ? "\r\nVary: Accept-Encoding, Accept" : "\r\nVary: Accept-Encoding";
  h += keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close";
  h += "\r\nCache-Control: no-store";
  for (const auto& [name, value] : r.extra_headers) {
    h += "\r\n";
    h += name;
    h += ": ";
    h += value;
  }
  if (o.more_headers != nullptr) {
    for (const auto& [name, value] : *o.more_headers) {
      h += "\r\n";
      h += name;
      h += ": ";
      h += value;
    }
  }
  h += "\r\n\r\n";
  return h;
}

Response simple_response(int status, std::string text) {
  Response r;
  r.status = status;
  if (text.empty()) text = std::to_string(status) + " " + reason_phrase(status) + "\n";
  r.body = std::make_shared<const Body>(std::move(text));
  return r;
}

}  // namespace http

namespace http {

Response deferred_response() {
  Response r;
  r.deferred = true;
  return r;
}

}  // namespace http
