// The endpoint over loopback: gzip and OpenMetrics negotiated per request,
// basic authentication, the web config's headers, the allow-lists, and TLS
// (a real OpenSSL client in this process) with garbage records and a
// certificate rotated under a running server.
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "http/basic_auth.h"
#include "http/tls_server.h"
#include "http_loop.h"
#include "metrics/render.h"
#include "unit.h"

namespace {

std::string big_exposition() {
  std::string s = "# HELP pg_x_total X.\n# TYPE pg_x_total counter\n";
  for (int i = 0; i < 20000; i++)
    s += "pg_x_total{t=\"" + std::to_string(i) + "\"} " + std::to_string(i) + "\n";
  return s;
}

http::Response handler(const http::Request& r) {
  static const std::string text = big_exposition();
  if (r.path == "/metrics") {
    http::Response resp;
    resp.content_type = metrics::kExpositionContentType;
    resp.exposition = true;
    resp.body = std::make_shared<const http::Body>(text);
    return resp;
  }
  return http::simple_response(200, "hello " + r.path);
}

std::string body_of(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

std::string unchunk(const std::string& in) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return out;
    size_t n = std::stoul(in.substr(pos, eol - pos), nullptr, 16);
    if (n == 0) return out;
    out.append(in, eol + 2, n);
    pos = eol + 2 + n + 2;
  }
}

std::string gunzip(const std::string& in) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  inflateInit2(&z, 15 + 16);
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    char buf[65536];
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc != Z_OK) break;
  }
  inflateEnd(&z);
  return out;
}

std::string get(loop::Loop& l, const std::string& req, double now = 0, int rounds = 30) {
  int fd = loop::connect_to(l.server.bound_port());
  std::string out = loop::exchange(l, fd, req, now, rounds);
  close(fd);
  return out;
}

std::string b64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

TEST(endpoint_gzip_when_accepted) {
  loop::Loop l(http::Limits{}, handler);
  l.server.listen("127.0.0.1", 0);
  const std::string text = big_exposition();
  std::string plain = get(l, "GET /metrics HTTP/1.1\r\n\r\n");
  CHECK(plain.find("Content-Length: " + std::to_string(text.size())) != std::string::npos);
  CHECK(plain.find("Content-Encoding") == std::string::npos);
  CHECK(body_of(plain) == text);
  std::string zipped = get(l, "GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
  CHECK(zipped.find("Content-Encoding: gzip\r\n") != std::string::npos);
  CHECK(zipped.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(zipped.find("Vary: Accept-Encoding") != std::string::npos);
  CHECK(zipped.find("Content-Length") == std::string::npos);
  CHECK(gunzip(unchunk(body_of(zipped))) == text);
  CHECK(zipped.size() < plain.size() / 4);
  // HTTP/1.0 gets no chunked coding: identity with a length.
  std::string old = get(l, "GET /metrics HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
  CHECK(old.find("Content-Encoding") == std::string::npos);
  CHECK(body_of(old) == text);
  // gzip;q=0 is a refusal; small bodies are not worth it.
  CHECK(get(l, "GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip;q=0\r\n\r\n").find("Content-Encoding") ==
        std::string::npos);
  CHECK(get(l, "GET /small HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n").find("Content-Encoding") ==
        std::string::npos);
  // HEAD: the head of the gzip response, no body.
  std::string head = get(l, "HEAD /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
  CHECK(head.find("Content-Encoding: gzip") != std::string::npos);
  CHECK(body_of(head).empty());
}

TEST(endpoint_openmetrics_when_preferred) {
  loop::Loop l(http::Limits{}, handler);
  l.server.listen("127.0.0.1", 0);
  const std::string accept =
      "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
      "text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n";
  std::string om = get(l, "GET /metrics HTTP/1.1\r\n" + accept + "Accept-Encoding: gzip\r\n\r\n");
  CHECK(om.find("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n") !=
        std::string::npos);
  const std::string text = gunzip(unchunk(body_of(om)));
  CHECK(text.find("# TYPE pg_x counter\npg_x_total{t=\"0\"} 0\n") == text.find("# TYPE"));
  CHECK(text.size() > 6 && text.substr(text.size() - 6) == "# EOF\n");
  // Other paths are no exposition: unchanged.
  CHECK(get(l, "GET /small HTTP/1.1\r\n" + accept + "\r\n").find("text/plain; charset=utf-8") !=
        std::string::npos);
  // curl's */*: the text format.
  CHECK(get(l, "GET /metrics HTTP/1.1\r\nAccept: */*\r\n\r\n").find("version=0.0.4") != std::string::npos);
  // HTTP/1.0 and OpenMetrics: no length known, the connection ends the body.
  std::string old = get(l, "GET /metrics HTTP/1.0\r\n" + accept + "\r\n");
  CHECK(old.find("Connection: close") != std::string::npos);
  CHECK(old.find("Content-Length") == std::string::npos);
  CHECK(body_of(old).substr(body_of(old).size() - 6) == "# EOF\n");
}

TEST(endpoint_basic_auth_headers_and_allow_lists) {
  loop::Loop l(http::Limits{}, handler);
  l.server.listen("127.0.0.1", 0);
  http::Access a;
  a.auth = std::make_shared<http::BasicAuth>(std::vector<std::pair<std::string, std::string>>{
      {"prom", "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"}});
  a.headers = {{"X-Frame-Options", "deny"}};
  l.server.set_access(a);
  std::string out = get(l, "GET /x HTTP/1.1\r\n\r\n");
  CHECK(out.find("HTTP/1.1 401 Unauthorized") == 0);
  CHECK(out.find("WWW-Authenticate: Basic") != std::string::npos);
  CHECK(out.find("X-Frame-Options: deny") != std::string::npos);
  CHECK(get(l, "GET /x HTTP/1.1\r\nAuthorization: Basic " + b64("prom:nope") + "\r\n\r\n").find("401") == 9);
  out = get(l, "GET /x HTTP/1.1\r\nAuthorization: Basic " + b64("prom:fakepassword") + "\r\n\r\n");
  CHECK(out.find("hello /x") != std::string::npos);
  CHECK(out.find("X-Frame-Options: deny") != std::string::npos);
  // A huge Authorization header: the head limit answers it.
  CHECK(
      get(l, "GET /x HTTP/1.1\r\nAuthorization: Basic " + std::string(20000, 'A') + "\r\n\r\n").find("431") ==
      9);
  CHECK(l.server.stats().auth_failures >= 2u);

  http::Access hosts;
  CHECK(http::parse_hosts("localhost, db1.example.com, ::1", &hosts.hosts, nullptr));
  l.server.set_access(hosts);
  CHECK(get(l, "GET /x HTTP/1.1\r\nHost: localhost:9187\r\n\r\n").find("hello") != std::string::npos);
  CHECK(get(l, "GET /x HTTP/1.1\r\nHost: DB1.example.com.\r\n\r\n").find("hello") != std::string::npos);
  CHECK(get(l, "GET /x HTTP/1.1\r\nHost: [::1]:9187\r\n\r\n").find("hello") != std::string::npos);
  CHECK(get(l, "GET /x HTTP/1.1\r\nHost: evil.example\r\n\r\n").find("403") == 9);
  CHECK(get(l, "GET /x HTTP/1.0\r\n\r\n").find("403") == 9);  // no Host at all

  http::Access nets;
  std::string err;
  CHECK(http::parse_networks("10.0.0.0/8", &nets.networks, &err));
  l.server.set_access(nets);
  int fd = loop::connect_to(l.server.bound_port());
  bool eof = false;
  out = loop::exchange(l, fd, "GET /x HTTP/1.1\r\n\r\n", 0, 5, &eof);
  CHECK(out.empty() && eof);
  close(fd);
  CHECK_EQ(l.server.stats().refused_network, 1u);
  CHECK(http::parse_networks("127.0.0.0/8", &nets.networks, &err));
  l.server.set_access(nets);
  CHECK(get(l, "GET /x HTTP/1.1\r\n\r\n").find("hello") != std::string::npos);
}

TEST(endpoint_allow_list_parsing) {
  std::vector<http::Network> n;
  std::string e;
  CHECK(http::parse_networks("", &n, &e) && n.empty());
  CHECK(http::parse_networks("127.0.0.1, 10.0.0.0/8 ::1 fd00::/8", &n, &e) && n.size() == 4);
  CHECK(!http::parse_networks("10.0.0.0/33", &n, &e));
  CHECK(!http::parse_networks("::/129", &n, &e));
  CHECK(!http::parse_networks("10.0.0.0/", &n, &e));
  CHECK(!http::parse_networks("10.0.0.0/x", &n, &e));
  CHECK(!http::parse_networks("localhost", &n, &e));
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  inet_pton(AF_INET, "10.1.2.3", &v4.sin_addr);
  sockaddr_in6 mapped{};
  mapped.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.1.2.3", &mapped.sin6_addr);
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "fd00::5", &v6.sin6_addr);
  CHECK(http::parse_networks("10.0.0.0/8", &n, &e));
  CHECK(http::network_allows(n, reinterpret_cast<sockaddr*>(&v4)));
  CHECK(http::network_allows(n, reinterpret_cast<sockaddr*>(&mapped)));
  CHECK(!http::network_allows(n, reinterpret_cast<sockaddr*>(&v6)));
  CHECK(http::parse_networks("10.1.2.0/25", &n, &e));
  CHECK(http::network_allows(n, reinterpret_cast<sockaddr*>(&v4)));
  CHECK(http::parse_networks("10.1.2.128/25", &n, &e));
  CHECK(!http::network_allows(n, reinterpret_cast<sockaddr*>(&v4)));
  CHECK(http::parse_networks("fd00::/8", &n, &e));
  CHECK(http::network_allows(n, reinterpret_cast<sockaddr*>(&v6)));
  CHECK(!http::network_allows(n, reinterpret_cast<sockaddr*>(&v4)));
  std::vector<std::string> h;
  CHECK(!http::parse_hosts("a/b", &h, &e));
  CHECK(http::host_allowed({}, "anything"));
  CHECK(http::parse_hosts("Example.COM", &h, &e) && http::host_allowed(h, "example.com:1"));
  CHECK(!http::host_allowed(h, "example.com.evil"));
  CHECK(!http::host_allowed(h, ""));
}
