// The connection state machine over real loopback sockets, driven the way
// the worker drives it (interests -> poll -> on_ready/on_timeout), with a
// fake clock so timeouts are tested without sleeping.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "http/server.h"
#include "unit.h"

namespace {

// A folder for spool files under the system's temporary directory.
std::string spool_dir() { return std::string(unit::temp_dir()); }

struct Fixture {
  int fds_in_use = 0;
  http::Server server;
  explicit Fixture(http::Limits limits = {})
      : server(
            limits,
            [](const http::Request& r) -> http::Response {
              if (r.path == "/throw") throw std::runtime_error("boom");
              if (r.path == "/big") {
                http::Response resp;
                resp.body = std::make_shared<const http::Body>(std::string(4 << 20, 'x'));
                return resp;
              }
              if (r.path == "/parts") {
                // Pieces of a body, empty ones included, large enough to be sent in several writes.
                http::Response resp;
                resp.body = std::make_shared<const http::Body>(
                    std::vector<spool::Piece>{
                        {"first;"}, {""}, {std::string(300000, 'y')}, {""}, {""}, {"last;"}},
                    nullptr);
                return resp;
              }
              if (r.path == "/spooled" || r.path == "/spooled-big") {
                // Text pieces and ranges of a file, the ranges not in file order.
                std::string why;
                std::shared_ptr<spool::File> file = spool::File::create(spool_dir(), &why, {}, 0);
                if (!file) throw std::runtime_error(why);
                const size_t n = r.path == "/spooled" ? 200000 : (6 << 20);
                const int64_t b = file->append(std::string(n, 'b'));
                const int64_t a = file->append(std::string(n, 'a'));
                http::Response resp;
                resp.body = std::make_shared<const http::Body>(
                    std::vector<spool::Piece>{{"head;"},
                                              {"", static_cast<uint64_t>(a), n},
                                              {"mid;"},
                                              {"", static_cast<uint64_t>(b), n},
                                              {"", static_cast<uint64_t>(a), 3}},
                    file);
                return resp;
              }
              return http::simple_response(200, "hello " + r.path);
            },
            http::Hooks{[this] {
                          fds_in_use++;
                          return true;
                        },
                        [this] { fds_in_use--; }, nullptr, nullptr}) {}

  // One loop iteration, as the worker does it.
  void pump(double now, int wait_ms = 20) {
    auto in = server.interests();
    std::vector<pollfd> p;
    for (auto& i : in)
      p.push_back({i.fd, static_cast<short>((i.read ? POLLIN : 0) | (i.write ? POLLOUT : 0)), 0});
    if (poll(p.data(), p.size(), wait_ms) > 0) {
      for (auto& x : p) {
        if (x.revents)
          server.on_ready(x.fd, x.revents & (POLLIN | POLLHUP | POLLERR), x.revents & POLLOUT, now);
      }
    }
    server.on_timeout(now);
  }
};

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

void send_all(int fd, const std::string& s) { (void)!write(fd, s.data(), s.size()); }

// Reads what is available; returns "" plus eof flag.
std::string drain(int fd, bool* eof = nullptr) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (eof) *eof = (n == 0);
    break;
  }
  return out;
}

std::string exchange(Fixture& f, int fd, const std::string& req, double now, int rounds = 10,
                     bool* eof = nullptr) {
  send_all(fd, req);
  std::string out;
  for (int i = 0; i < rounds; i++) {
    f.pump(now, 5);
    out += drain(fd, eof);
  }
  return out;
}

}  // namespace

TEST(server_listen_and_serve) {
  Fixture f;
  CHECK_EQ(f.server.listen("127.0.0.1", 0), "");
  CHECK(f.server.bound_port() > 0);
  int c = connect_to(f.server.bound_port());
  std::string out = exchange(f, c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 100);
  CHECK(out.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK(out.find("hello /metrics") != std::string::npos);
  // keep-alive: a second request on the same connection.
  out = exchange(f, c, "GET /again HTTP/1.1\r\n\r\n", 100);
  CHECK(out.find("hello /again") != std::string::npos);
  CHECK_EQ(f.server.client_count(), 1u);
  close(c);
  f.pump(100);
  CHECK_EQ(f.server.client_count(), 0u);
  CHECK_EQ(f.fds_in_use, 0);
}

namespace {

// GET `path` is answered with exactly `want` (Content-Length included), and
// the connection then serves another request.
void check_body_then_keep_alive(const char* path, const std::string& want, int rounds) {
  Fixture f;
  f.server.listen("127.0.0.1", 0);
  int c = connect_to(f.server.bound_port());
  std::string out = exchange(f, c, std::string("GET ") + path + " HTTP/1.1\r\n\r\n", 1, rounds);
  CHECK(out.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK(out.find("Content-Length: " + std::to_string(want.size()) + "\r\n") != std::string::npos);
  size_t body = out.find("\r\n\r\n");
  CHECK(body != std::string::npos);
  CHECK(body != std::string::npos && out.substr(body + 4) == want);
  out = exchange(f, c, "GET /again HTTP/1.1\r\n\r\n", 1);
  CHECK(out.find("hello /again") != std::string::npos);
  close(c);
}

// A client that reads the start of GET `path` and goes away is dropped (its
// descriptor given back), and the next client is served.
void check_client_vanishing(const char* path) {
  Fixture f;
  f.server.listen("127.0.0.1", 0);
  int c = connect_to(f.server.bound_port());
  send_all(c, std::string("GET ") + path + " HTTP/1.1\r\n\r\n");
  f.pump(0);
  char buf[100];
  (void)!read(c, buf, sizeof(buf));
  close(c);
  for (int i = 0; i < 10; i++) f.pump(0, 5);
  CHECK_EQ(f.server.client_count(), 0u);
  CHECK_EQ(f.fds_in_use, 0);
  int d = connect_to(f.server.bound_port());
  std::string out = exchange(f, d, "GET /next HTTP/1.1\r\n\r\n", 0);
  CHECK(out.find("hello /next") != std::string::npos);
  close(d);
}

}  // namespace

TEST(server_sends_a_body_of_parts_in_order) {
  // Empty pieces included; large enough to need several writes.
  check_body_then_keep_alive("/parts", "first;" + std::string(300000, 'y') + "last;", 200);
}

TEST(server_sends_file_pieces_with_sendfile) {
  // Pieces in memory and ranges of a file, not in file order.
  check_body_then_keep_alive(
      "/spooled", "head;" + std::string(200000, 'a') + "mid;" + std::string(200000, 'b') + "aaa", 300);
}

TEST(server_client_vanishing_mid_file_piece) {
  // sendfile() fails with EPIPE (SIGPIPE is ignored, as in the worker).
  check_client_vanishing("/spooled-big");
}

TEST(server_head_and_http10) {
  Fixture f;
  f.server.listen("127.0.0.1", 0);
  int c = connect_to(f.server.bound_port());
  bool eof = false;
  std::string out = exchange(f, c, "HEAD /x HTTP/1.0\r\n\r\n", 1, 10, &eof);
  CHECK(out.find("Content-Length: 8\r\n") != std::string::npos);
  CHECK(out.find("hello") == std::string::npos);
  CHECK(eof);  // 1.0 without keep-alive closes
  close(c);
}

TEST(server_handler_exception_is_500_and_serving_continues) {
  Fixture f;
  f.server.listen("127.0.0.1", 0);
  int c = connect_to(f.server.bound_port());
  std::string out = exchange(f, c, "GET /throw HTTP/1.1\r\n\r\n", 1);
  CHECK(out.rfind("HTTP/1.1 500", 0) == 0);
  out = exchange(f, c, "GET /ok HTTP/1.1\r\n\r\n", 1);
  CHECK(out.find("hello /ok") != std::string::npos);
  close(c);
}

TEST(server_oversized_head_gets_431_and_close) {
  Fixture f;
  f.server.listen("127.0.0.1", 0);
  int c = connect_to(f.server.bound_port());
  bool eof = false;
  std::string out =
      exchange(f, c, "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 1, 20, &eof);
  CHECK(out.rfind("HTTP/1.1 431", 0) == 0);
  CHECK(eof);
  close(c);
  CHECK_EQ(f.fds_in_use, 0);
}

TEST(server_slow_client_times_out_others_served) {
  http::Limits l;
  l.head_timeout = 5;
  Fixture f(l);
  f.server.listen("127.0.0.1", 0);
  int slow = connect_to(f.server.bound_port());
  send_all(slow, "GET /met");
  f.pump(0);
  f.pump(1);
  int fast = connect_to(f.server.bound_port());
  std::string out = exchange(f, fast, "GET /fast HTTP/1.1\r\n\r\n", 2);
  CHECK(out.find("hello /fast") != std::string::npos);
  CHECK(f.server.next_deadline() > 0);
  f.pump(5.5);  // past the slow client's head deadline
  bool eof = false;
  std::string slow_out = drain(slow, &eof);
  CHECK(slow_out.rfind("HTTP/1.1 408", 0) == 0);
  CHECK_EQ(f.server.stats().timeouts, 1u);
  close(slow);
  close(fast);
}

TEST(server_idle_keepalive_closed_quietly) {
  http::Limits l;
  l.idle_timeout = 3;
  Fixture f(l);
  f.server.listen("127.0.0.1", 0);
  int c = connect_to(f.server.bound_port());
  exchange(f, c, "GET / HTTP/1.1\r\n\r\n", 10);
  f.pump(14);
  CHECK_EQ(f.server.client_count(), 0u);
  CHECK_EQ(f.server.stats().timeouts, 0u);
  close(c);
}

// Slots beyond max_clients: test/unit/http_slots_test.cpp.

TEST(server_client_vanishing_mid_response) { check_client_vanishing("/big"); }

TEST(server_out_of_descriptors_pauses_listening_instead_of_spinning) {
  Fixture f;
  f.server.listen("127.0.0.1", 0);
  int c = connect_to(f.server.bound_port());  // queued by the kernel, not yet accepted
  // The lowest free descriptor becomes the limit: accept() fails with EMFILE
  // and the connection stays queued, so the listener stays readable.
  rlimit old{};
  getrlimit(RLIMIT_NOFILE, &old);
  int probe = open("/dev/null", O_RDONLY);
  close(probe);
  rlimit low = old;
  low.rlim_cur = static_cast<rlim_t>(probe);
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  f.pump(10.0, 5);
  // Paused: nothing to wait on but the time to retry, so the loop sleeps
  // instead of being woken by the same listener again and again.
  CHECK_EQ(f.server.stats().accept_pauses, 1u);
  CHECK_EQ(f.server.client_count(), 0u);
  CHECK(f.server.interests().empty());
  CHECK(f.server.next_deadline() > 10.0 && f.server.next_deadline() <= 11.0);
  f.pump(10.1, 5);
  CHECK_EQ(f.server.stats().accept_pauses, 1u);
  setrlimit(RLIMIT_NOFILE, &old);
  // Descriptors again, pause over: the queued client is served.
  f.pump(11.0, 5);
  CHECK(!f.server.interests().empty());
  std::string out = exchange(f, c, "GET /queued HTTP/1.1\r\n\r\n", 11.0);
  CHECK(out.find("hello /queued") != std::string::npos);
  CHECK_EQ(f.server.stats().accept_pauses, 1u);
  close(c);
}

TEST(server_reader_that_never_reads_times_out) {
  http::Limits l;
  l.write_timeout = 2;
  Fixture f(l);
  f.server.listen("127.0.0.1", 0);
  int c = connect_to(f.server.bound_port());
  send_all(c, "GET /big HTTP/1.1\r\n\r\n");
  for (int i = 0; i < 5; i++) f.pump(0, 5);
  CHECK_EQ(f.server.client_count(), 1u);
  f.pump(3);
  CHECK_EQ(f.server.client_count(), 0u);
  close(c);
}

TEST(server_listen_errors) {
  Fixture a, b;
  CHECK_EQ(a.server.listen("127.0.0.1", 0), "");
  std::string err = b.server.listen("127.0.0.1", a.server.bound_port());
  CHECK(err.find("could not bind 127.0.0.1:") != std::string::npos);
  CHECK(err.find("in use") != std::string::npos);
  CHECK(!b.server.listening());
  CHECK(!b.server.listen("no.such.host.invalid", 0).empty());
  // Both families where available; IPv6 may be missing in a sandbox.
  Fixture c;
  CHECK_EQ(c.server.listen("127.0.0.1, ::1", 0), "");
  CHECK(c.server.interests().size() >= 1u);
  c.server.close_listeners();
  CHECK(!c.server.listening());
}

TEST(server_garbage_then_good_request) {
  Fixture f;
  f.server.listen("127.0.0.1", 0);
  for (int i = 0; i < 20; i++) {
    int c = connect_to(f.server.bound_port());
    std::string junk;
    for (int k = 0; k < 500; k++) junk.push_back(static_cast<char>((k * 7 + i * 13) % 256));
    exchange(f, c, junk, 0, 3);
    close(c);
  }
  for (int i = 0; i < 5; i++) f.pump(0, 5);
  int c = connect_to(f.server.bound_port());
  CHECK(exchange(f, c, "GET /fine HTTP/1.1\r\n\r\n", 0).find("hello /fine") != std::string::npos);
  close(c);
}
