// TLS in the event loop: a real OpenSSL client in this process (non-blocking,
// alternating with the server's loop), TLS 1.2 and 1.3, client certificates,
// garbage records, plain HTTP on the TLS port, and rotation of the
// certificate files under a running server.
#include <cstdio>
#include <memory>
#include <string>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "http/tls_server.h"
#include "http_loop.h"
#include "unit.h"

namespace {

struct KeyCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~KeyCert() {
    EVP_PKEY_free(key);
    X509_free(cert);
  }
};

// A P-256 key and a certificate for `cn`, signed by `issuer` (self-signed when null).
std::unique_ptr<KeyCert> make_cert(const std::string& cn, const KeyCert* issuer, long serial, bool ca) {
  auto kc = std::make_unique<KeyCert>();
  kc->key = EVP_EC_gen("P-256");
  kc->cert = X509_new();
  X509_set_version(kc->cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(kc->cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(kc->cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(kc->cert), 86400);
  X509_set_pubkey(kc->cert, kc->key);
  X509_NAME* name = X509_get_subject_name(kc->cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(kc->cert, issuer ? X509_get_subject_name(issuer->cert) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer->cert : kc->cert, kc->cert, nullptr, nullptr, 0);
  const std::string san = "DNS:" + cn + ",IP:127.0.0.1";
  if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str())) {
    X509_add_ext(kc->cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_EXTENSION* ext =
          X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE")) {
    X509_add_ext(kc->cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(kc->cert, issuer ? issuer->key : kc->key, EVP_sha256());
  return kc;
}

std::string pem_cert(const KeyCert& kc) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, kc.cert);
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  std::string s(p, static_cast<size_t>(n));
  BIO_free(b);
  return s;
}

std::string pem_key(const KeyCert& kc) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, kc.key, nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  std::string s(p, static_cast<size_t>(n));
  BIO_free(b);
  return s;
}

void write_file(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

http::Response hello(const http::Request& r) { return http::simple_response(200, "hello " + r.path); }

struct Client {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  int fd = -1;
  ~Client() {
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
    if (fd >= 0) close(fd);
  }
};

// Connects and handshakes while the server's loop turns; true when done.
bool handshake(loop::Loop& l, Client& c, int version, const KeyCert* client_cert, double now) {
  c.ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(c.ctx, version);
  SSL_CTX_set_max_proto_version(c.ctx, version);
  if (client_cert) {
    SSL_CTX_use_certificate(c.ctx, client_cert->cert);
    SSL_CTX_use_PrivateKey(c.ctx, client_cert->key);
  }
  c.fd = loop::connect_to(l.server.bound_port());
  c.ssl = SSL_new(c.ctx);
  SSL_set_fd(c.ssl, c.fd);
  for (int i = 0; i < 200; i++) {
    int rc = SSL_connect(c.ssl);
    if (rc == 1) {
      // TLS 1.3: the server's verdict on a client certificate comes after the client's Finished.
      for (int k = 0; k < 3; k++) l.pump(now, 2);
      return true;
    }
    int e = SSL_get_error(c.ssl, rc);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) break;
    l.pump(now, 2);
  }
  ERR_clear_error();
  return false;
}

std::string request(loop::Loop& l, Client& c, const std::string& req, double now) {
  SSL_write(c.ssl, req.data(), static_cast<int>(req.size()));
  std::string out;
  for (int i = 0; i < 50; i++) {
    l.pump(now, 2);
    char buf[16384];
    int n = SSL_read(c.ssl, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    if (n <= 0 && SSL_get_error(c.ssl, n) != SSL_ERROR_WANT_READ) break;
    if (out.find("\r\n\r\n") != std::string::npos && out.find("hello") != std::string::npos) break;
  }
  ERR_clear_error();
  return out;
}

std::string peer_cn(Client& c) {
  X509* x = SSL_get1_peer_certificate(c.ssl);
  if (!x) return "";
  char buf[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf);
  X509_free(x);
  return buf;
}

struct Pki {
  std::unique_ptr<KeyCert> ca, server, client, stranger;
  std::string dir = unit::temp_dir();
  Pki() {
    ca = make_cert("test-ca", nullptr, 1, true);
    server = make_cert("localhost", ca.get(), 2, false);
    client = make_cert("prometheus", ca.get(), 3, false);
    stranger = make_cert("stranger", nullptr, 4, false);
    write_file(dir + "/server.crt", pem_cert(*server));
    write_file(dir + "/server.key", pem_key(*server));
    write_file(dir + "/ca.crt", pem_cert(*ca));
  }
  ~Pki() {
    for (const char* f : {"/server.crt", "/server.key", "/ca.crt"}) std::remove((dir + f).c_str());
  }
  webconfig::Tls settings() const {
    webconfig::Tls t;
    t.enabled = true;
    t.cert_file = dir + "/server.crt";
    t.key_file = dir + "/server.key";
    return t;
  }
};

}  // namespace

TEST(tls_handshake_12_and_13_and_requests) {
  Pki pki;
  loop::Loop l(http::Limits{}, hello);
  std::string err;
  auto tls = http::TlsContext::create(pki.settings(), &err);
  CHECK_EQ(err, "");
  CHECK(tls != nullptr);
  l.server.set_tls(tls);
  l.server.listen("127.0.0.1", 0);
  for (int v : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    Client c;
    CHECK(handshake(l, c, v, nullptr, 0));
    CHECK_EQ(SSL_version(c.ssl), v);
    CHECK_EQ(peer_cn(c), "localhost");
    std::string out = request(l, c, "GET /a HTTP/1.1\r\n\r\n", 0);
    CHECK(out.find("hello /a") != std::string::npos);
    out = request(l, c, "GET /b HTTP/1.1\r\n\r\n", 0);  // keep-alive over TLS
    CHECK(out.find("hello /b") != std::string::npos);
  }
  // min_version TLS13: a TLS 1.2 client is refused.
  webconfig::Tls only13 = pki.settings();
  only13.min_version = TLS1_3_VERSION;
  l.server.set_tls(http::TlsContext::create(only13, &err));
  Client old;
  CHECK(!handshake(l, old, TLS1_2_VERSION, nullptr, 0));
  CHECK(l.server.stats().tls_handshake_failures >= 1u);
}

TEST(tls_plain_http_and_garbage_on_the_tls_port) {
  Pki pki;
  loop::Loop l(http::Limits{}, hello);
  std::string err;
  l.server.set_tls(http::TlsContext::create(pki.settings(), &err));
  l.server.listen("127.0.0.1", 0);
  const int port = l.server.bound_port();
  int a = loop::connect_to(port);
  bool eof = false;
  std::string out = loop::exchange(l, a, "GET /metrics HTTP/1.1\r\n\r\n", 0, 5, &eof);
  CHECK(out.find("Client sent an HTTP request to an HTTPS server.") != std::string::npos);
  CHECK(eof);
  close(a);
  // Records that are not TLS, truncated, oversized, random: closed, never a crash.
  unsigned seed = 11;
  for (int round = 0; round < 40; round++) {
    std::string junk =
        round % 2 ? std::string("\x16\x03\x01\xff\xff", 5) : std::string("\x16\x03\x03\x00\x30", 5);
    for (int i = 0; i < 300; i++) {
      seed = seed * 1103515245 + 12345;
      junk.push_back(static_cast<char>(seed >> 16));
    }
    int fd = loop::connect_to(port);
    loop::exchange(l, fd, junk, 0, 3, &eof);
    close(fd);
  }
  for (int i = 0; i < 5; i++) l.pump(0, 2);
  CHECK_EQ(l.server.client_count(), 0u);
  // The server still serves a real client.
  Client c;
  CHECK(handshake(l, c, TLS1_3_VERSION, nullptr, 0));
  CHECK(request(l, c, "GET /after HTTP/1.1\r\n\r\n", 0).find("hello /after") != std::string::npos);
  // A handshake that never finishes is cut at the head timeout.
  int slow = loop::connect_to(port);
  loop::exchange(l, slow, std::string("\x16\x03\x01\x00", 4), 100, 2);
  l.pump(100 + 11, 2);
  loop::drain(slow, &eof);
  CHECK(eof);
  close(slow);
}

TEST(tls_client_certificates) {
  Pki pki;
  loop::Loop l(http::Limits{}, hello);
  webconfig::Tls t = pki.settings();
  t.client_auth = webconfig::ClientAuth::kRequireAndVerify;
  t.client_ca_file = pki.dir + "/ca.crt";
  std::string err;
  l.server.set_tls(http::TlsContext::create(t, &err));
  CHECK_EQ(err, "");
  l.server.listen("127.0.0.1", 0);
  for (int v : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    Client good;
    CHECK(handshake(l, good, v, pki.client.get(), 0));
    CHECK(request(l, good, "GET /c HTTP/1.1\r\n\r\n", 0).find("hello /c") != std::string::npos);
    Client none;
    handshake(l, none, v, nullptr, 0);
    CHECK(request(l, none, "GET /c HTTP/1.1\r\n\r\n", 0).find("hello") == std::string::npos);
    Client stranger;
    handshake(l, stranger, v, pki.stranger.get(), 0);
    CHECK(request(l, stranger, "GET /c HTTP/1.1\r\n\r\n", 0).find("hello") == std::string::npos);
  }
  // client_allowed_sans: the good client's SAN is DNS:prometheus.
  t.client_allowed_sans = {"other"};
  l.server.set_tls(http::TlsContext::create(t, &err));
  Client refused;
  handshake(l, refused, TLS1_3_VERSION, pki.client.get(), 0);
  CHECK(request(l, refused, "GET /c HTTP/1.1\r\n\r\n", 0).find("hello") == std::string::npos);
  t.client_allowed_sans = {"127.0.0.1"};
  l.server.set_tls(http::TlsContext::create(t, &err));
  Client allowed;
  CHECK(handshake(l, allowed, TLS1_3_VERSION, pki.client.get(), 0));
  CHECK(request(l, allowed, "GET /c HTTP/1.1\r\n\r\n", 0).find("hello /c") != std::string::npos);
}

TEST(tls_context_refuses_bad_files_clearly) {
  Pki pki;
  std::string err;
  webconfig::Tls t = pki.settings();
  t.key_file = pki.dir + "/missing.key";
  CHECK(http::TlsContext::create(t, &err) == nullptr);
  CHECK(err.find("key_file") != std::string::npos);
  // A key that is not the certificate's.
  write_file(pki.dir + "/other.key", pem_key(*pki.client));
  t.key_file = pki.dir + "/other.key";
  CHECK(http::TlsContext::create(t, &err) == nullptr);
  CHECK(err.find("does not match") != std::string::npos);
  std::remove((pki.dir + "/other.key").c_str());
  t = pki.settings();
  t.cert_file = pki.dir + "/server.key";  // no certificate in it
  CHECK(http::TlsContext::create(t, &err) == nullptr);
  CHECK(err.find("no PEM certificate") != std::string::npos);
  t = pki.settings();
  t.cipher_list = "NOT-A-CIPHER";
  CHECK(http::TlsContext::create(t, &err) == nullptr);
  // Inline PEM works like files.
  webconfig::Tls inl;
  inl.enabled = true;
  inl.cert_pem = pem_cert(*pki.server);
  inl.key_pem = pem_key(*pki.server);
  CHECK(http::TlsContext::create(inl, &err) != nullptr);
}

TEST(tls_certificate_rotation_without_restart) {
  Pki pki;
  loop::Loop l(http::Limits{}, hello);
  std::string err;
  auto tls = http::TlsContext::create(pki.settings(), &err);
  l.server.set_tls(tls);
  l.server.listen("127.0.0.1", 0);
  Client before;
  CHECK(handshake(l, before, TLS1_3_VERSION, nullptr, 0));
  CHECK_EQ(peer_cn(before), "localhost");
  // Rotate: a new key and certificate (another name, to tell them apart).
  auto next = make_cert("rotated", pki.ca.get(), 9, false);
  // The certificate first: for a moment it does not match the old key.
  write_file(pki.dir + "/server.crt", pem_cert(*next));
  Client mid;
  CHECK(handshake(l, mid, TLS1_3_VERSION, nullptr, 2));
  CHECK_EQ(peer_cn(mid), "localhost");  // the mismatch is refused, the old pair serves
  write_file(pki.dir + "/server.key", pem_key(*next));
  Client after;
  CHECK(handshake(l, after, TLS1_3_VERSION, nullptr, 4));
  CHECK_EQ(peer_cn(after), "rotated");
  CHECK_EQ(tls->reloads(), 1u);
  // The connection opened before still works on its old session (within
  // its head timeout: it has sent no request yet).
  CHECK(request(l, before, "GET /old HTTP/1.1\r\n\r\n", 5).find("hello /old") != std::string::npos);
}
