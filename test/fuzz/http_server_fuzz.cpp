// libFuzzer target: the HTTP connection state machine (http::Server) over
// real loopback sockets, the way the worker drives it, with a fake clock.
// The input is a script: each step connects, sends a chunk (any split of any
// bytes), half-closes, resets, reads a little (or stops reading), lets time
// pass, polls, or calls on_ready()/on_timeout() out of turn with flags the
// kernel did not report. After every step the server keeps its promises
// (never more clients than max_clients, one descriptor acquired per client);
// at the end every client is gone, every descriptor released, and whatever a
// client received starts with an HTTP/1.1 status line.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/server.h"

namespace {

constexpr size_t kMaxClients = 3;
constexpr size_t kMaxConnections = 5;  // client sockets the script may hold (more than the cap)

struct Input {
  const uint8_t* p;
  size_t n;
  uint8_t byte() {
    if (n == 0) return 0;
    n--;
    return *p++;
  }
  bool empty() const { return n == 0; }
};

struct World {
  int fds_in_use = 0;
  bool refuse_fd = false;
  std::shared_ptr<spool::File> file;
  http::Server server;

  World()
      : server(
            limits(), [this](const http::Request& r) { return handle(r); },
            http::Hooks{[this] {
                          if (refuse_fd) return false;
                          fds_in_use++;
                          return true;
                        },
                        [this] { fds_in_use--; }, nullptr, nullptr}) {
    // sendfile() to a client that is gone raises SIGPIPE, which PostgreSQL
    // ignores in every background worker (bgworker.c): so does this process.
    signal(SIGPIPE, SIG_IGN);
    std::string why;
    file = spool::File::create("/tmp", &why, {}, 0);
    if (file) file->append(std::string(100000, 'f'));
    if (!server.listen("127.0.0.1", 0).empty()) __builtin_trap();
  }

  static http::Limits limits() {
    http::Limits l;
    l.max_head_bytes = 1024;
    l.max_clients = kMaxClients;
    l.max_queued = 1;
    l.head_timeout = 1.0;
    l.idle_timeout = 2.0;
    l.write_timeout = 3.0;
    return l;
  }

  http::Response handle(const http::Request& r) {
    if (r.path == "/throw") throw std::runtime_error("handler failed");
    http::Response resp;
    if (r.path == "/big") {
      // Larger than the socket buffers: sent over many writable events.
      resp.body = std::make_shared<const http::Body>(std::string(1 << 20, 'b'));
      return resp;
    }
    if (r.path == "/file" && file) {
      resp.body = std::make_shared<const http::Body>(
          std::vector<spool::Piece>{{"head;"}, {"", 10, 50000}, {""}, {"", 0, 7}, {"tail;"}}, file);
      return resp;
    }
    return http::simple_response(200, "ok " + r.path);
  }
};

World& world() {
  static World* w = new World();  // never destroyed: libFuzzer exits without unwinding
  return *w;
}

struct Client {
  int fd;
  std::string received;
};

int connect_client(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // A small receive buffer: responses then need many writable events.
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

void read_some(Client& c, size_t max) {
  char buf[8192];
  while (max > 0) {
    ssize_t n = recv(c.fd, buf, std::min(max, sizeof buf), MSG_DONTWAIT);
    if (n <= 0) return;
    if (c.received.size() < 64) c.received.append(buf, static_cast<size_t>(std::min<ssize_t>(n, 64)));
    max -= static_cast<size_t>(n);
  }
}

// One iteration of the worker's loop: wait (not at all), dispatch, timeouts.
void pump(World& w, double now) {
  std::vector<pollfd> p;
  for (const auto& i : w.server.interests())
    p.push_back({i.fd, static_cast<short>((i.read ? POLLIN : 0) | (i.write ? POLLOUT : 0)), 0});
  if (!p.empty() && poll(p.data(), p.size(), 0) > 0) {
    for (const auto& x : p) {
      if (x.revents)
        w.server.on_ready(x.fd, x.revents & (POLLIN | POLLHUP | POLLERR), x.revents & POLLOUT, now);
    }
  }
  w.server.on_timeout(now);
}

void check(World& w) {
  if (w.server.client_count() > kMaxClients) __builtin_trap();
  // A connection waiting for a slot holds a descriptor too.
  if (w.fds_in_use != static_cast<int>(w.server.client_count() + w.server.queued_count())) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  Input in{data, size};
  std::vector<Client> clients;
  static double now = 0;  // the fake clock never goes back, across inputs too
  now += 1000.0;
  w.refuse_fd = false;

  for (int steps = 0; steps < 200 && !in.empty(); steps++) {
    // Each step: [operation] [which client] [its arguments...]
    uint8_t op = in.byte();
    uint8_t which = in.byte();
    Client* c = clients.empty() ? nullptr : &clients[which % clients.size()];
    switch (op % 10) {
      case 0:  // connect
        if (clients.size() < kMaxConnections) {
          int fd = connect_client(w.server.bound_port());
          if (fd >= 0) clients.push_back({fd, {}});
        }
        break;
      case 1:  // send a chunk of the input as is
        if (c) {
          size_t len = std::min<size_t>(in.byte() % 64 + 1, in.n);
          ssize_t ignored = send(c->fd, in.p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
          (void)ignored;
          in.p += len;
          in.n -= len;
        }
        break;
      case 2: {  // send a well-formed request (keeps the interesting paths reachable)
        static const char* const kRequests[] = {"GET / HTTP/1.1\r\n\r\n",
                                                "GET /big HTTP/1.1\r\n\r\n",
                                                "GET /file HTTP/1.1\r\n\r\n",
                                                "GET /throw HTTP/1.1\r\n\r\n",
                                                "HEAD /big HTTP/1.1\r\n\r\n",
                                                "GET / HTTP/1.0\r\n\r\n",
                                                "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"};
        if (c) {
          const char* r = kRequests[in.byte() % (sizeof kRequests / sizeof *kRequests)];
          ssize_t ignored = send(c->fd, r, strlen(r), MSG_NOSIGNAL | MSG_DONTWAIT);
          (void)ignored;
        }
        break;
      }
      case 3:  // half-close
        if (c) shutdown(c->fd, SHUT_WR);
        break;
      case 4:  // reset: close with unread data or SO_LINGER 0
        if (c) {
          if (in.byte() % 2) {
            linger l{1, 0};
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
          }
          close(c->fd);
          *c = clients.back();
          clients.pop_back();
        }
        break;
      case 5:  // read a little
        if (c) read_some(*c, static_cast<size_t>(in.byte()) * 256 + 1);
        break;
      case 6:  // time passes
        now += (in.byte() % 40) * 0.1;
        break;
      case 7:  // the loop runs
        pump(w, now);
        break;
      case 8: {  // an event out of turn, with flags the kernel may not have reported
        auto interests = w.server.interests();
        uint8_t flags = in.byte();
        if (!interests.empty()) {
          const auto& i = interests[flags % interests.size()];
          w.server.on_ready(i.fd, flags & 0x40, flags & 0x80, now);
        }
        break;
      }
      case 9:  // the descriptor budget runs out, or comes back
        w.refuse_fd = in.byte() % 4 == 0;
        break;
    }
    check(w);
  }

  // Everyone leaves; the server must forget every connection and give back
  // every descriptor once the clients are gone and the deadlines have passed.
  w.refuse_fd = false;
  for (Client& c : clients) {
    pump(w, now);
    read_some(c, 1 << 21);
    if (!c.received.empty() && c.received.compare(0, 9, "HTTP/1.1 ") != 0) __builtin_trap();
    close(c.fd);
  }
  // (Connections still in the listen backlog are accepted and closed too.)
  for (int i = 0, quiet = 0; i < 100 && quiet < 3; i++) {
    now += 1.0;
    pump(w, now);
    quiet = w.server.client_count() + w.server.queued_count() == 0 ? quiet + 1 : 0;
  }
  if (w.server.client_count() != 0 || w.server.queued_count() != 0 || w.fds_in_use != 0) __builtin_trap();
  return 0;
}
