#include <random>

#include "http/request.h"
#include "http/response.h"
#include "unit.h"

using http::ParseStatus;

namespace {
http::ParseResult parse(const std::string& s, http::Request* r, size_t max = 8192) {
  return http::parse_request(s, max, r);
}
}  // namespace

TEST(request_simple_get) {
  http::Request r;
  auto p =
      parse("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n", &r);
  CHECK(p.status == ParseStatus::kComplete);
  CHECK_EQ(r.method, "GET");
  CHECK_EQ(r.path, "/metrics");
  CHECK_EQ(r.target, "/metrics?x=1");
  CHECK_EQ(r.version_minor, 1);
  CHECK(r.keep_alive);
  CHECK(r.header("x-prometheus-scrape-timeout-seconds") == "10");
  CHECK(r.header("missing").empty());
}

TEST(request_pipelined_consumes_one) {
  http::Request r;
  std::string two = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
  auto p = parse(two, &r);
  CHECK(p.status == ParseStatus::kComplete);
  CHECK_EQ(r.path, "/a");
  CHECK_EQ(p.consumed, std::string("GET /a HTTP/1.1\r\n\r\n").size());
  auto q = parse(two.substr(p.consumed), &r);
  CHECK(q.status == ParseStatus::kComplete);
  CHECK_EQ(r.path, "/b");
}

TEST(request_keep_alive_rules) {
  http::Request r;
  parse("GET / HTTP/1.0\r\n\r\n", &r);
  CHECK(!r.keep_alive);
  parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r);
  CHECK(r.keep_alive);
  parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &r);
  CHECK(!r.keep_alive);
}

TEST(request_bare_lf_and_leading_blank_lines) {
  http::Request r;
  auto p = parse("\r\nGET / HTTP/1.1\nHost: x\n\n", &r);
  CHECK(p.status == ParseStatus::kComplete);
  CHECK_EQ(r.path, "/");
}

TEST(request_incomplete) {
  http::Request r;
  CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\n", &r).status == ParseStatus::kIncomplete);
  CHECK(parse("GE", &r).status == ParseStatus::kIncomplete);
  CHECK(parse("", &r).status == ParseStatus::kIncomplete);
}

TEST(request_errors) {
  http::Request r;
  struct Case {
    const char* text;
    int status;
  } cases[] = {
      {"GARBAGE\r\n\r\n", 400},
      {"GET /\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1 extra\r\n\r\n", 400},
      {"G(T / HTTP/1.1\r\n\r\n", 400},
      {"GET nopath HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTX/1.1\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / HTTP/1.2\r\n\r\n", 505},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413},
      {"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
  };
  for (const auto& c : cases) {
    auto p = parse(c.text, &r);
    if (p.status != ParseStatus::kError || p.error_status != c.status) {
      unit::fail(__FILE__, __LINE__,
                 std::string("case: ") + c.text + " got " + std::to_string(p.error_status));
    }
  }
  CHECK(parse("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r).status == ParseStatus::kComplete);
  std::string nul("GET /\0x HTTP/1.1\r\n\r\n", 20);
  CHECK(parse(nul, &r).error_status == 400);
  std::string ctl = "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n";
  CHECK(parse(ctl, &r).error_status == 400);
}

TEST(request_oversized_heads) {
  http::Request r;
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(10000, 'a') + "\r\n\r\n";
  CHECK_EQ(parse(big, &r).error_status, 431);
  // Still incomplete but already past the limit.
  std::string partial = "GET / HTTP/1.1\r\nX: " + std::string(10000, 'a');
  CHECK_EQ(parse(partial, &r).error_status, 431);
  std::string line(20000, 'A');
  CHECK_EQ(parse(line, &r).error_status, 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 150; i++) many += "X: y\r\n";
  many += "\r\n";
  CHECK_EQ(parse(many, &r).error_status, 431);
}

TEST(request_random_bytes_never_crash) {
  std::mt19937 rng(12345);
  http::Request r;
  const std::string alphabet = "GET /metrics HTTP/1.0\r\n:\t \x01\x7f\xff";
  for (int i = 0; i < 3000; i++) {
    std::string s;
    size_t len = rng() % 600;
    for (size_t k = 0; k < len; k++) {
      s.push_back(rng() % 3 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()]);
    }
    auto p = http::parse_request(s, 256, &r);
    CHECK(p.status != ParseStatus::kComplete || p.consumed <= s.size());
  }
}

TEST(response_head) {
  http::Response r = http::simple_response(404);
  std::string h = http::serialize_head(r, true);
  CHECK(h.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  CHECK(h.find("Content-Length: 14\r\n") != std::string::npos);
  CHECK(h.find("Connection: keep-alive\r\n") != std::string::npos);
  CHECK(h.size() >= 4 && h.substr(h.size() - 4) == "\r\n\r\n");
  r.extra_headers.emplace_back("Allow", "GET, HEAD");
  CHECK(http::serialize_head(r, false).find("Allow: GET, HEAD\r\nConnection") == std::string::npos);
  CHECK(http::serialize_head(r, false).find("Connection: close") != std::string::npos);
}
