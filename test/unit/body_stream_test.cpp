// A body through OpenMetrics, gzip and chunked framing, from memory and from
// a spool file: what comes out decodes to exactly what went in, in bounded
// steps.
#include <zlib.h>

#include <cstring>
#include <memory>
#include <string>

#include "http/body_stream.h"
#include "metrics/openmetrics.h"
#include "metrics/render.h"
#include "metrics/sink.h"
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

// A scrape's pieces as the sink makes them: samples encoded (in the file and
// in memory), text around them, and the text each way out must be the
// sink's own rendering, also when the socket takes a few bytes at a time.
TEST(body_stream_writes_encoded_lines_out) {
  // A collector's sink merged into the scrape's: its label table (~600 kB)
  // goes to the file as well.
  auto fill = [](metrics::Sink& s) {
    metrics::Sink local(s.spool());
    metrics::Family seq = local.counter("pg_stat_user_tables_seq_scan", "Sequential scans.");
    metrics::Family live = local.gauge("pg_stat_user_tables_n_live_tup", "Live rows.");
    for (int i = 0; i < 20000; i++) {
      metrics::LabelSet l({{"datname", "db"}, {"relname", "t" + std::to_string(i)}});
      seq.add(l, i * 3);
      live.add(l, i % 7 == 0 ? 0.5 : 1e15 + i);
    }
    s.absorb(std::move(local));
    s.histogram("pg_h_seconds", "h").add_histogram({{"part", "a"}}, {{1, 1}, {2, 3}}, 4, 5.5);
    s.gauge("pg_last", "last").add(42);
  };
  metrics::Sink memory;
  fill(memory);
  const std::string want = metrics::render(memory);
  std::string why;
  auto file = spool::File::create(unit::temp_dir(), &why, {}, 0);
  CHECK(file != nullptr);
  if (!file) return;
  metrics::Sink spooled(file);
  fill(spooled);
  std::vector<spool::Piece> pieces = spooled.take_pieces();
  size_t encoded_in_file = 0, encoded_in_memory = 0;
  for (const spool::Piece& p : pieces) {
    if (p.encoded()) (p.in_file() ? encoded_in_file : encoded_in_memory)++;
  }
  CHECK(encoded_in_file > 2);
  CHECK_EQ(encoded_in_memory, 0u);  // the last few samples of a family are written out at once
  // The file holds the encoding and the label table: far less than the text.
  CHECK(file->size() > 20000 * 25);
  CHECK(file->size() * 2 < want.size());
  auto body = std::make_shared<const http::Body>(std::move(pieces), file);
  CHECK_EQ(body->size(), want.size());
  for (bool sendfile : {true, false}) {
    http::StreamOptions o;
    o.sendfile = sendfile;
    for (size_t step : {size_t{1} << 20, size_t{777}}) {
      http::BodyStream s(body, o);
      std::string err;
      size_t largest = 0;
      CHECK(drain(s, step, &largest, &err) == want);
      CHECK_EQ(err, "");
      CHECK(largest < 2 * http::BodyStream::kBlock);
    }
  }
  // Two connections sending it at once, turn about (they share the blocks of
  // the label table read back from the file).
  {
    http::StreamOptions o;
    http::BodyStream a(body, o), b(body, o);
    std::string got_a, got_b, err;
    bool more_a = true, more_b = true;
    while (more_a || more_b) {
      for (auto [s, got, more] : {std::tie(a, got_a, more_a), std::tie(b, got_b, more_b)}) {
        http::BodyStream::Out out;
        if (more && !s.next(&out, &err)) more = false;
        if (!more) continue;
        const size_t n = std::min<size_t>(out.len, 5000);
        got.append(out.data, n);
        s.consumed(n);
      }
    }
    CHECK_EQ(err, "");
    CHECK(got_a == want);
    CHECK(got_b == want);
  }
  http::StreamOptions z;
  z.gzip = true;
  z.chunked = true;
  http::BodyStream zs(body, z);
  bool ok1 = false, ok2 = false;
  CHECK(gunzip(unchunk(drain(zs, 4096), &ok1), &ok2) == want);
  CHECK(ok1 && ok2);
  http::StreamOptions om;
  om.openmetrics = true;
  om.chunked = true;
  http::BodyStream os(body, om);
  CHECK(unchunk(drain(os, 100000), &ok1) == metrics::to_openmetrics(want));
  CHECK(ok1);
}

TEST(body_stream_damaged_encoded_lines_are_an_error) {
  metrics::Sink s;
  metrics::Family f = s.gauge("m", "h");
  for (int i = 0; i < 10000; i++) f.add({{"i", std::to_string(i)}}, i);
  std::vector<spool::Piece> pieces = s.take_pieces();
  bool damaged = false;
  for (spool::Piece& p : pieces) {
    if (p.encoded() && !p.text.empty()) {
      p.text.replace(0, 3, "\xff\xff\x7f");  // the first label set's number: far past the table
      damaged = true;
    }
  }
  CHECK(damaged);
  auto body = std::make_shared<const http::Body>(std::move(pieces), nullptr);
  for (bool gzip : {false, true}) {
    http::StreamOptions o;
    o.gzip = gzip;
    http::BodyStream st(body, o);
    std::string err;
    drain(st, 100000, nullptr, &err);
    CHECK(err.find("damaged") != std::string::npos);
  }
}

TEST(body_stream_label_table_larger_than_its_read_back_budget) {
  // 11 MB of label sets (more than the 8 MiB of a table's blocks a stream
  // keeps): each family walks the table again, reading back what it no
  // longer holds, in two streams at once.
  const std::string pad(90, 'x');
  auto fill = [&pad](metrics::Sink& s) {
    metrics::Sink local(s.spool());
    metrics::Family a = local.gauge("pg_index_size_bytes", "Size.");
    metrics::Family b = local.counter("pg_stat_user_indexes_idx_scan", "Scans.");
    for (int i = 0; i < 100000; i++) {
      metrics::LabelSet l({{"relname", "t" + std::to_string(i)}, {"indexrelname", pad + std::to_string(i)}});
      a.add(l, i);
      if (i % 3 != 1) b.add(l, i * 5);
    }
    s.absorb(std::move(local));
  };
  metrics::Sink memory;
  fill(memory);
  const std::string want = metrics::render(memory);
  std::string why;
  auto file = spool::File::create(unit::temp_dir(), &why, {}, 0);
  CHECK(file != nullptr);
  if (!file) return;
  metrics::Sink spooled(file);
  fill(spooled);
  CHECK(file->size() > (10u << 20));
  auto body = std::make_shared<const http::Body>(spooled.take_pieces(), file);
  CHECK_EQ(body->size(), want.size());
  http::StreamOptions o;
  http::BodyStream x(body, o), y(body, o);
  std::string got_x, got_y, err;
  bool more_x = true, more_y = true;
  while (more_x || more_y) {
    size_t step = 300000;  // the two streams take different amounts at a time
    for (auto [s, got, more] : {std::tie(x, got_x, more_x), std::tie(y, got_y, more_y)}) {
      http::BodyStream::Out out;
      if (more && !s.next(&out, &err)) more = false;
      if (!more) continue;
      const size_t n = std::min<size_t>(out.len, step);
      step = 700000 - step;
      got.append(out.data, n);
      s.consumed(n);
    }
  }
  CHECK_EQ(err, "");
  CHECK(got_x == want);
  CHECK(got_y == want);
}
