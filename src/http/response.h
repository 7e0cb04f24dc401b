// HTTP responses: what a handler returns, and the head we send for it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "spool/file.h"

namespace http {

// A body kept as the pieces it was made of and sent one after another: the
// metrics exposition (tens of MB on a large database) is never joined into a
// second copy. Pieces in a spool file are sent from it with sendfile().
struct Body {
  Body() = default;
  explicit Body(std::string text);
  Body(std::vector<spool::Piece> pieces, std::shared_ptr<const spool::File> file);
  const std::vector<spool::Piece>& parts() const { return parts_; }
  const spool::File* file() const { return file_.get(); }
  uint64_t size() const { return size_; }

 private:
  std::vector<spool::Piece> parts_;
  std::shared_ptr<const spool::File> file_;
  uint64_t size_ = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  // Shared: many connections may send the same cached metrics body.
  std::shared_ptr<const Body> body;
  std::vector<std::pair<std::string, std::string>> extra_headers;
  // The handler will answer later, by Server::resolve(request.ticket, ...):
  // the connection waits (reading nothing more) until then.
  bool deferred = false;
  // The body is a text-format 0.0.4 exposition: the server sends it as
  // OpenMetrics to a request whose Accept prefers that.
  bool exposition = false;
};

// How the body goes out, when the server transforms it (see BodyStream).
struct HeadOptions {
  bool chunked = false;         // Transfer-Encoding: chunked instead of Content-Length
  bool length_unknown = false;  // neither: the body ends with the connection (HTTP/1.0)
  bool gzip = false;            // Content-Encoding: gzip
  bool vary = false;            // Vary: Accept-Encoding (and Accept, for an exposition)
  const std::vector<std::pair<std::string, std::string>>* more_headers = nullptr;
};

// A response whose answer comes later (see Response::deferred).
Response deferred_response();

const char* reason_phrase(int status);
// Status line, Content-Type, Content-Length, Connection, extra headers, blank line.
std::string serialize_head(const Response& r, bool keep_alive);
std::string serialize_head(const Response& r, bool keep_alive, const HeadOptions& o);
// A small text/plain response; the body defaults to "<status> <reason>\n".
Response simple_response(int status, std::string text = "");

}  // namespace http
