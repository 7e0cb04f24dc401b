// A server on loopback driven as the worker drives it, and raw clients, for
// the endpoint's tests (slots, TLS, authentication, encodings).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "http/server.h"

namespace loop {

struct Loop {
  http::Server server;
  int fds = 0;
  explicit Loop(http::Limits limits, http::Server::Handler handler)
      : server(limits, std::move(handler),
               http::Hooks{[this] {
                             fds++;
                             return true;
                           },
                           [this] { fds--; }, nullptr, nullptr}) {}

  void pump(double now, int wait_ms = 5) {
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

inline int connect_to(int port) {
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

inline void send_all(int fd, const std::string& s) { (void)!write(fd, s.data(), s.size()); }

// What is readable now; *eof when the server closed.
inline std::string drain(int fd, bool* eof = nullptr) {
  std::string out;
  char buf[65536];
  if (eof) *eof = false;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (eof) *eof = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    break;
  }
  return out;
}

inline std::string exchange(Loop& l, int fd, const std::string& req, double now, int rounds = 10,
                            bool* eof = nullptr) {
  send_all(fd, req);
  std::string out;
  bool closed = false;
  for (int i = 0; i < rounds; i++) {
    l.pump(now);
    bool e = false;
    out += drain(fd, &e);
    closed |= e;
  }
  if (eof) *eof = closed;
  return out;
}

}  // namespace loop
