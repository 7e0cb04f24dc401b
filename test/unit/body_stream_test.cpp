// A body through OpenMetrics, gzip and chunked framing, from memory and from
// a spool file: what comes out decodes to exactly what went in, in bounded
// steps.
#include <zlib.h>

#include <cstring>
#include <memory>
#include <string>

#include "http/body_stream.h"
#include "metrics/openmetrics.h"
#include "unit.h"

namespace {

std::string gunzip(const std::string& in, bool* ok) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  *ok = inflateInit2(&z, 15 + 16) == Z_OK;
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (*ok && rc != Z_STREAM_END) {
    char buf[65536];
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) *ok = false;
    out.append(buf, sizeof buf - z.avail_out);
  }
  *ok = *ok && z.avail_in == 0;  // nothing after the gzip member
  inflateEnd(&z);
  return out;
}

// Undoes Transfer-Encoding: chunked; *ok false on any framing error.
std::string unchunk(const std::string& in, bool* ok) {
  std::string out;
  size_t pos = 0;
  *ok = false;
  for (;;) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return out;
    const std::string hex = in.substr(pos, eol - pos);
    if (hex.empty() || hex.find_first_not_of("0123456789abcdef") != std::string::npos) return out;
    const size_t n = std::stoul(hex, nullptr, 16);
    pos = eol + 2;
    if (n == 0) {
      *ok = in.compare(pos, std::string::npos, "\r\n") == 0;
      return out;
    }
    if (pos + n + 2 > in.size() || in.compare(pos + n, 2, "\r\n") != 0) return out;
    out.append(in, pos, n);
    pos += n + 2;
  }
}

// Runs the stream, taking at most `step` bytes of each output (a socket
// that accepts little at a time). Records the largest single output.
std::string drain(http::BodyStream& s, size_t step, size_t* largest = nullptr, std::string* error = nullptr) {
  std::string out, err;
  http::BodyStream::Out o;
  while (s.next(&o, &err)) {
    if (o.file_fd >= 0) {
      std::string buf(o.file_len, '\0');
      if (pread(o.file_fd, &buf[0], buf.size(), static_cast<off_t>(o.file_offset)) !=
          static_cast<ssize_t>(buf.size()))
        break;
      out += buf;
      s.consumed(buf.size());
      continue;
    }
    if (largest && o.len > *largest) *largest = o.len;
    const size_t n = std::min(step, o.len);
    out.append(o.data, n);
    s.consumed(n);
  }
  if (error) *error = err;
  return out;
}

std::string exposition(size_t lines) {
  std::string s = "# HELP m A metric.\n# TYPE m_total counter\n";
  for (size_t i = 0; i < lines; i++)
    s += "m_total{table=\"t" + std::to_string(i) + "\"} " + std::to_string(i * 7) + "\n";
  return s;
}

std::shared_ptr<const http::Body> spooled_body(const std::string& text, std::shared_ptr<spool::File>* keep) {
  std::string why;
  *keep = spool::File::create(unit::temp_dir(), &why, {}, 0);
  if (!*keep) return nullptr;
  // Memory, file, memory, file: pieces split mid-line on purpose.
  const size_t a = text.size() / 3, b = 2 * text.size() / 3;
  const int64_t off1 = (*keep)->append(text.substr(a, b - a - 10));
  const int64_t off2 = (*keep)->append(text.substr(b));
  std::vector<spool::Piece> pieces;
  pieces.push_back({text.substr(0, a)});
  pieces.push_back({"", static_cast<uint64_t>(off1), b - a - 10});
  pieces.push_back({text.substr(b - 10, 10)});
  pieces.push_back({"", static_cast<uint64_t>(off2), text.size() - b});
  return std::make_shared<const http::Body>(std::move(pieces), *keep);
}

}  // namespace

TEST(body_stream_identity_keeps_pieces_and_sendfile_ranges) {
  const std::string text = exposition(5000);
  std::shared_ptr<spool::File> file;
  auto body = spooled_body(text, &file);
  CHECK(body != nullptr);
  http::StreamOptions o;
  http::BodyStream s(body, o);
  CHECK(!s.transformed());
  CHECK_EQ(drain(s, 1000), text);
  // Without sendfile (TLS) the file ranges come through a buffer.
  o.sendfile = false;
  http::BodyStream t(body, o);
  size_t largest = 0;
  CHECK_EQ(drain(t, 777, &largest), text);
  http::BodyStream empty(nullptr, o);
  CHECK_EQ(drain(empty, 10), "");
}

TEST(body_stream_gzip_chunked_roundtrip) {
  const std::string text = exposition(60000);  // ~2.5 MB
  std::shared_ptr<spool::File> file;
  for (bool spooled : {false, true}) {
    auto body = spooled ? spooled_body(text, &file) : std::make_shared<const http::Body>(text);
    for (int level : {1, 6}) {
      http::StreamOptions o;
      o.gzip = true;
      o.chunked = true;
      o.gzip_level = level;
      http::BodyStream s(body, o);
      CHECK(s.transformed());
      size_t largest = 0;
      std::string err;
      const std::string wire = drain(s, 4096, &largest, &err);
      CHECK_EQ(err, "");
      bool ok1 = false, ok2 = false;
      const std::string unzipped = gunzip(unchunk(wire, &ok1), &ok2);
      CHECK(ok1);
      CHECK(ok2);
      CHECK(unzipped == text);
      CHECK(wire.size() < text.size() / 5);
      // Bounded steps: no output block is the whole compressed body.
      CHECK(largest < 3 * http::BodyStream::kBlock);
      CHECK_EQ(s.bytes_in(), text.size());
    }
  }
}

TEST(body_stream_openmetrics_with_and_without_gzip) {
  const std::string text = exposition(3000) + "# TYPE g gauge\ng Nan\n";
  std::shared_ptr<spool::File> file;
  auto body = spooled_body(text, &file);
  const std::string want = metrics::to_openmetrics(text);
  http::StreamOptions o;
  o.openmetrics = true;
  o.chunked = true;
  http::BodyStream plain(body, o);
  bool ok = false;
  CHECK(unchunk(drain(plain, 100000), &ok) == want);
  CHECK(ok);
  o.gzip = true;
  http::BodyStream zipped(body, o);
  bool ok2 = false;
  CHECK(gunzip(unchunk(drain(zipped, 5000), &ok), &ok2) == want);
  CHECK(ok && ok2);
  // HTTP/1.0: no chunks, the body ends with the connection.
  o.chunked = false;
  http::BodyStream raw(body, o);
  CHECK(gunzip(drain(raw, 5000), &ok2) == want);
  CHECK(ok2);
}

TEST(body_stream_spool_file_shorter_than_its_pieces) {
  std::string why;
  auto file = spool::File::create(unit::temp_dir(), &why, {}, 0);
  CHECK(file != nullptr);
  file->append("abc");
  auto body = std::make_shared<const http::Body>(std::vector<spool::Piece>{{"", 0, 1000}}, file);
  for (bool gzip : {false, true}) {
    http::StreamOptions o;
    o.sendfile = false;
    o.gzip = gzip;
    http::BodyStream s(body, o);
    std::string err;
    drain(s, 100, nullptr, &err);
    CHECK(err.find("shorter") != std::string::npos);
  }
}
