// libFuzzer target: the connection state machine with TLS on. Clients over
// loopback send any bytes (a real ClientHello to start from, when the script
// asks) into the handshake and the session, in any split, close at any
// point, while the fake clock runs. After every step the server keeps its
// promises (at most max_clients clients, one descriptor per client or
// waiting connection), and at the end every connection is gone.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "http/server.h"
#include "http/tls_server.h"

namespace {

constexpr size_t kMaxClients = 2;
constexpr size_t kMaxConnections = 4;

std::string pem_of_key(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  std::string s(p, static_cast<size_t>(n));
  BIO_free(b);
  return s;
}

std::string pem_of_cert(X509* x) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  std::string s(p, static_cast<size_t>(n));
  BIO_free(b);
  return s;
}

// A real TLS 1.3 ClientHello (the first flight of an OpenSSL client).
std::string client_hello() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rb = BIO_new(BIO_s_mem());
  BIO* wb = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rb, wb);
  SSL_connect(ssl);
  char* p = nullptr;
  long n = BIO_get_mem_data(wb, &p);
  std::string s(p, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return s;
}

struct World {
  int fds_in_use = 0;
  http::Server server;
  std::string hello;
  World()
      : server(limits(), [](const http::Request& r) { return http::simple_response(200, "hello " + r.path); },
               http::Hooks{[this] {
                             fds_in_use++;
                             return true;
                           },
                           [this] { fds_in_use--; }, nullptr, nullptr}) {
    signal(SIGPIPE, SIG_IGN);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    X509_sign(cert, key, EVP_sha256());
    webconfig::Tls t;
    t.enabled = true;
    t.cert_pem = pem_of_cert(cert);
    t.key_pem = pem_of_key(key);
    X509_free(cert);
    EVP_PKEY_free(key);
    std::string why;
    auto ctx = http::TlsContext::create(t, &why);
    if (!ctx) __builtin_trap();
    server.set_tls(ctx);
    hello = client_hello();
    if (!server.listen("127.0.0.1", 0).empty()) __builtin_trap();
  }
  static http::Limits limits() {
    http::Limits l;
    l.max_clients = kMaxClients;
    l.max_queued = 1;
    l.head_timeout = 1.0;
    l.idle_timeout = 2.0;
    l.write_timeout = 3.0;
    l.lifetime = 5.0;
    return l;
  }
};

World& world() {
  static World* w = new World();  // never destroyed: libFuzzer exits without unwinding
  return *w;
}

void pump(World& w, double now) {
  auto in = w.server.interests();
  std::vector<pollfd> p;
  for (auto& i : in) p.push_back({i.fd, static_cast<short>((i.read ? POLLIN : 0) | (i.write ? POLLOUT : 0)), 0});
  if (poll(p.data(), p.size(), 0) > 0) {
    for (auto& x : p) {
      if (x.revents) w.server.on_ready(x.fd, x.revents & (POLLIN | POLLHUP | POLLERR), x.revents & POLLOUT, now);
    }
  }
  w.server.on_timeout(now);
  if (w.server.client_count() > kMaxClients) __builtin_trap();
  if (w.fds_in_use != static_cast<int>(w.server.client_count() + w.server.queued_count())) __builtin_trap();
}

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  std::vector<int> clients;
  double now = 0;
  size_t i = 0;
  auto byte = [&]() -> uint8_t { return i < size ? data[i++] : 0; };
  while (i < size) {
    const uint8_t op = byte();
    switch (op % 6) {
      case 0:  // connect
        if (clients.size() < kMaxConnections) {
          int fd = connect_to(w.server.bound_port());
          if (fd >= 0) clients.push_back(fd);
        }
        break;
      case 1:  // a real ClientHello
        if (!clients.empty()) (void)!write(clients[byte() % clients.size()], w.hello.data(), w.hello.size());
        break;
      case 2: {  // any bytes
        if (clients.empty()) break;
        const int fd = clients[byte() % clients.size()];
        const size_t n = std::min<size_t>(byte() + 1u, size - i);
        if (n > 0) (void)!write(fd, data + i, n);
        i += n;
        break;
      }
      case 3:  // close one
        if (!clients.empty()) {
          const size_t k = byte() % clients.size();
          close(clients[k]);
          clients.erase(clients.begin() + static_cast<long>(k));
        }
        break;
      case 4:  // time passes
        now += (byte() % 16) * 0.1;
        break;
      default: {  // read what came back
        char buf[65536];
        for (int fd : clients) (void)!read(fd, buf, sizeof buf);
        break;
      }
    }
    pump(w, now);
  }
  for (int fd : clients) close(fd);
  for (int k = 0, quiet = 0; k < 100 && quiet < 3; k++) {
    now += 1.0;
    pump(w, now);
    quiet = w.server.client_count() + w.server.queued_count() == 0 ? quiet + 1 : 0;
  }
  if (w.server.client_count() != 0 || w.server.queued_count() != 0 || w.fds_in_use != 0) __builtin_trap();
  return 0;
}
