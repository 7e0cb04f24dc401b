#include "http/request.h"

#include "http/text.h"

namespace http {

namespace {

constexpr size_t kMaxHeaders = 100;

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

// Visible ASCII only in the request target (no spaces, controls, DEL, 8-bit).
bool valid_target(std::string_view s) {
  if (s.empty() || s.size() > 4096) return false;
  if (s[0] != '/' && s != "*") return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

// Field values: no controls except horizontal tab (obs-text allowed).
bool valid_field_value(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  return true;
}

// Case-insensitive search for a token in a comma-separated header value.
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    if (lower(item) == token) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

ParseResult error(int status) {
  ParseResult r;
  r.status = ParseStatus::kError;
  r.error_status = status;
  return r;
}

// Finds the end of the head: CRLFCRLF or LFLF (bare LF tolerated).
size_t find_head_end(std::string_view buf, size_t* terminator_len) {
  for (size_t i = 0; i < buf.size(); i++) {
    if (buf[i] != '\n') continue;
    if (i + 1 < buf.size() && buf[i + 1] == '\n') {
      *terminator_len = 2;
      return i;
    }
    if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
      *terminator_len = 3;
      return i;
    }
  }
  return std::string_view::npos;
}

std::string_view chomp_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// 0, or the status that refuses the request line "METHOD SP target SP
// HTTP/x.y" (filling `out` when given).
int check_request_line(std::string_view line, Request* out) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return 400;
  size_t sp2 = line.find(' ', sp1 + 1);
  // HTTP/0.9 ("GET /") has no version: refused at once, not after a timeout.
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return 400;
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method) || method.size() > 32 || !valid_target(target)) return 400;
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return 400;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return 505;
  if (out != nullptr) {
    out->method = std::string(method);
    out->target = std::string(target);
    out->path = std::string(target.substr(0, target.find('?')));
    out->version_minor = version[7] - '0';
  }
  return 0;
}

}  // namespace

std::string_view Request::header(std::string_view lower_name) const {
  for (const auto& h : headers) {
    if (h.first == lower_name) return h.second;
  }
  return {};
}

ParseResult parse_request(std::string_view buf, size_t max_head_bytes, Request* out) {
  // Tolerate empty lines before a request (RFC 9112 2.2).
  size_t lead = 0;
  while (lead < buf.size() && lead < 8 && (buf[lead] == '\r' || buf[lead] == '\n')) lead++;
  std::string_view rest = buf.substr(lead);

  size_t term = 0;
  size_t end = find_head_end(rest, &term);
  if (end == std::string_view::npos) {
    // What cannot become a request is refused now, not after the head
    // timeout: a TLS ClientHello (0x16) or other binary on the plain port, an
    // HTTP/0.9 request line.
    if (!rest.empty() && !is_tchar(rest[0])) return error(400);
    const size_t eol = rest.find('\n');
    if (eol != std::string_view::npos) {
      if (int status = check_request_line(chomp_cr(rest.substr(0, eol)), nullptr)) return error(status);
    } else if (rest.size() > 4096 + 64) {
      return error(431);  // no request line is that long: too large, at once
    }
    if (buf.size() > max_head_bytes) return error(431);
    // A request line without a line end cannot be valid past the limit either.
    return ParseResult{};
  }
  size_t head_len = lead + end + 1 + term - 1;  // through the final LF
  if (head_len > max_head_bytes) return error(431);
  std::string_view head = rest.substr(0, end + 1);

  *out = Request{};
  size_t pos = 0;
  size_t line_no = 0;
  bool expect_body = false;
  bool chunked = false;
  while (pos < head.size()) {
    size_t eol = head.find('\n', pos);
    std::string_view line = chomp_cr(head.substr(pos, eol - pos));
    pos = eol + 1;
    if (line_no++ == 0) {
      if (int status = check_request_line(line, out)) return error(status);
      continue;
    }
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') return error(400);  // obsolete line folding
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return error(400);
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (!is_token(name) || !valid_field_value(value)) return error(400);
    if (out->headers.size() >= kMaxHeaders) return error(431);
    std::string lname = lower(name);
    if (lname == "content-length") {
      if (value.empty() || value.size() > 18) return error(value.size() > 18 ? 413 : 400);
      for (char c : value) {
        if (c < '0' || c > '9') return error(400);
      }
      if (value.find_first_not_of('0') != std::string_view::npos) expect_body = true;
    } else if (lname == "transfer-encoding") {
      chunked = true;
    }
    out->headers.emplace_back(std::move(lname), std::string(value));
  }
  if (chunked) return error(501);
  if (expect_body) return error(413);

  std::string_view conn = out->header("connection");
  if (out->version_minor == 0) {
    out->keep_alive = has_token(conn, "keep-alive");
  } else {
    out->keep_alive = !has_token(conn, "close");
  }
  ParseResult r;
  r.status = ParseStatus::kComplete;
  r.consumed = head_len;
  return r;
}

}  // namespace http
