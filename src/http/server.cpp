#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace http {

namespace {

constexpr size_t kReadChunk = 16384;
constexpr double kAcceptPauseSeconds = 0.25;

// Sends up to `length` bytes of `file_fd` at `offset` to a non-blocking
// socket: sendfile() (the kernel copies page cache to the socket), or a
// read and a send where sendfile cannot (EINVAL, ENOSYS). Like send():
// bytes sent, or -1 with errno.
ssize_t send_file_range(int sock, int file_fd, uint64_t offset, uint64_t length, bool more) {
  off_t off = static_cast<off_t>(offset);
  const size_t want = static_cast<size_t>(std::min<uint64_t>(length, 1 << 20));
  ssize_t n = ::sendfile(sock, file_fd, &off, want);
  if (n >= 0 || (errno != EINVAL && errno != ENOSYS)) {
    if (n == 0) errno = EIO;  // the file is shorter than its pieces say
    return n == 0 ? -1 : n;
  }
  char buf[kReadChunk];
  ssize_t got = ::pread(file_fd, buf, std::min(sizeof buf, want), static_cast<off_t>(offset));
  if (got <= 0) {
    if (got == 0) errno = EIO;
    return -1;
  }
  return ::send(sock, buf, static_cast<size_t>(got), MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0));
}

std::vector<std::string> split_addresses(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',' || c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string describe(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, host, sizeof(host));
    return host;
  }
  inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, host, sizeof(host));
  return std::string("[") + host + "]";
}

int port_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace

Server::Server(Limits limits, Handler handler, Hooks hooks)
    : limits_(limits), handler_(std::move(handler)), hooks_(std::move(hooks)) {}

Server::~Server() {
  close_listeners();
  while (!conns_.empty()) close_conn(conns_.begin()->first);
}

void Server::log(const std::string& msg) const {
  if (hooks_.log) hooks_.log(msg);
}

double Server::refresh(double now) const {
  if (!hooks_.clock) return now;
  double t = hooks_.clock();
  return t > now ? t : now;
}

void Server::close_listeners() {
  for (int fd : listeners_) ::close(fd);
  if (!listeners_.empty()) generation_++;
  listeners_.clear();
  bound_port_ = 0;
}

std::string Server::listen(const std::string& addresses, int port) {
  close_listeners();
  std::string first_error;
  std::vector<sockaddr_storage> bound;
  for (std::string host : split_addresses(addresses)) {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    // With port 0 every address after the first reuses the port the kernel chose.
    std::string service = std::to_string(bound_port_ != 0 ? bound_port_ : port);
    int rc = getaddrinfo(host == "*" ? nullptr : host.c_str(), service.c_str(), &hints, &res);
    if (rc != 0) {
      std::string err = "could not resolve listen address \"" + host + "\": " + gai_strerror(rc);
      if (first_error.empty()) first_error = err;
      log(err);
      continue;
    }
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      bool dup = false;
      for (const auto& b : bound) {
        dup |= std::memcmp(&b, ai->ai_addr, ai->ai_addrlen) == 0;
      }
      if (dup) continue;
      std::string where = describe(ai->ai_addr) + ":" + service;
      int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        std::string err = "could not create a socket for " + where + ": " + std::strerror(errno);
        if (first_error.empty()) first_error = err;
        log(err);
        continue;
      }
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
        std::string err = "could not bind " + where + ": " + std::strerror(errno);
        ::close(fd);
        if (first_error.empty()) first_error = err;
        continue;
      }
      sockaddr_storage ss{};
      std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
      bound.push_back(ss);
      if (bound_port_ == 0) bound_port_ = port_of(fd);
      listeners_.push_back(fd);
      generation_++;
    }
    freeaddrinfo(res);
  }
  if (listeners_.empty()) return first_error.empty() ? "no listen address given" : first_error;
  if (!first_error.empty()) log(first_error + " (listening on the other addresses)");
  return "";
}

std::vector<Server::Interest> Server::interests() const {
  std::vector<Interest> out;
  if (conns_.size() < limits_.max_clients && accept_paused_until_ < 0) {
    for (int fd : listeners_) out.push_back({fd, true, false});
  }
  for (const auto& [fd, c] : conns_) {
    // A waiting connection is read only to notice that it closed.
    bool writing = c.phase == Phase::kWriting;
    out.push_back({fd, !writing, writing});
  }
  return out;
}

double Server::next_deadline() const {
  double d = accept_paused_until_;
  for (const auto& [fd, c] : conns_) {
    if (d < 0 || c.deadline < d) d = c.deadline;
  }
  return d;
}

bool Server::is_listener(int fd) const {
  for (int l : listeners_) {
    if (l == fd) return true;
  }
  return false;
}

void Server::on_ready(int fd, bool readable, bool writable, double now) {
  if (is_listener(fd)) {
    if (readable) accept_clients(now);
    return;
  }
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (c.phase == Phase::kWriting) {
    if (writable) flush(c, now);
    return;
  }
  if (c.phase == Phase::kWaiting) {
    // Keeps what it sends for later (up to one request head); notices a close.
    if (readable && read_some(c, now) && c.in.size() > limits_.max_head_bytes) close_conn(c.fd);
    return;
  }
  if (readable && read_some(c, now)) process(c, now);
}

void Server::accept_clients(double now) {
  // Round-robin over the listeners until all would block or the cap is hit.
  bool progress = true;
  while (progress && conns_.size() < limits_.max_clients) {
    progress = false;
    for (size_t k = 0; k < listeners_.size() && conns_.size() < limits_.max_clients; k++) {
      int fd = ::accept4(listeners_[k], nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
        accept_paused_until_ = now + kAcceptPauseSeconds;
        stats_.accept_pauses++;
        generation_++;
        if (!accept_pause_logged_) {
          log(std::string("cannot accept connections for now (") + std::strerror(errno) +
              "): retrying every " + std::to_string(static_cast<int>(kAcceptPauseSeconds * 1000)) + " ms");
          accept_pause_logged_ = true;
        }
        return;
      }
      if (fd < 0) continue;  // EAGAIN, or transient (ECONNABORTED)
      progress = true;
      accept_pause_logged_ = false;
      if (hooks_.acquire_fd && !hooks_.acquire_fd()) {
        ::close(fd);
        stats_.rejected++;
        continue;
      }
      Conn c;
      c.fd = fd;
      c.phase = Phase::kReading;
      c.deadline = now + limits_.head_timeout;
      conns_.emplace(fd, std::move(c));
      stats_.accepted++;
      generation_++;
    }
  }
}

bool Server::read_some(Conn& c, double now) {
  char buf[kReadChunk];
  ssize_t n = ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    close_conn(c.fd);
    return false;
  }
  if (n < 0) return true;
  if (c.phase == Phase::kIdle) {
    c.phase = Phase::kReading;
    c.deadline = now + limits_.head_timeout;
  }
  c.in.append(buf, static_cast<size_t>(n));
  return true;
}

bool Server::process(Conn& c, double now) {
  // respond() may close the connection and free `c`: look it up by its fd.
  const int fd = c.fd;
  while (c.phase != Phase::kWriting && !c.in.empty()) {
    Request req;
    ParseResult pr = parse_request(c.in, limits_.max_head_bytes, &req);
    if (pr.status == ParseStatus::kIncomplete) return true;
    if (pr.status == ParseStatus::kError) {
      c.in.clear();
      respond(c, simple_response(pr.error_status), false, false, now);
      break;
    }
    c.in.erase(0, pr.consumed);
    stats_.requests++;
    req.ticket = next_ticket_++;
    Response resp;
    try {
      resp = handler_(req);
    } catch (...) {
      resp = simple_response(500);
    }
    now = refresh(now);
    if (resp.deferred) {
      c.phase = Phase::kWaiting;
      c.ticket = req.ticket;
      c.head_only = req.method == "HEAD";
      c.keep_alive = req.keep_alive;
      c.deadline = now + limits_.wait_timeout;
      generation_++;
      return true;
    }
    respond(c, std::move(resp), req.method == "HEAD", req.keep_alive, now);
    if (conns_.find(fd) == conns_.end()) return false;
  }
  return conns_.find(fd) != conns_.end();
}

void Server::respond(Conn& c, Response r, bool head_only, bool keep_alive, double now) {
  stats_.responses_by_status[r.status]++;
  c.out_head = serialize_head(r, keep_alive);
  c.out_body = head_only ? nullptr : r.body;
  c.out_part = 0;
  c.out_offset = 0;
  c.close_after = !keep_alive;
  c.phase = Phase::kWriting;
  c.deadline = now + limits_.write_timeout;
  generation_++;
  flush(c, now);
}

bool Server::flush(Conn& c, double now) {
  for (;;) {
    const size_t nparts = 1 + (c.out_body ? c.out_body->parts().size() : 0);
    if (c.out_part >= nparts) break;
    const bool more = c.out_part + 1 < nparts;
    ssize_t n;
    if (c.out_part == 0 || !c.out_body->parts()[c.out_part - 1].in_file()) {
      const std::string& part = c.out_part == 0 ? c.out_head : c.out_body->parts()[c.out_part - 1].text;
      if (c.out_offset >= part.size()) {
        c.out_part++;
        c.out_offset = 0;
        continue;
      }
      n = ::send(c.fd, part.data() + c.out_offset, part.size() - c.out_offset,
                 MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0));
    } else {
      const spool::Piece& part = c.out_body->parts()[c.out_part - 1];
      if (c.out_offset >= part.file_length) {
        c.out_part++;
        c.out_offset = 0;
        continue;
      }
      n = send_file_range(c.fd, c.out_body->file()->fd(), part.file_offset + c.out_offset,
                          part.file_length - c.out_offset, more);
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    if (n <= 0) {
      close_conn(c.fd);  // EPIPE, ECONNRESET: the client went away
      return false;
    }
    c.out_offset += static_cast<size_t>(n);
  }
  // Response complete.
  c.out_head.clear();
  c.out_body.reset();
  if (c.close_after) {
    close_conn(c.fd);
    return false;
  }
  c.phase = c.in.empty() ? Phase::kIdle : Phase::kReading;
  c.deadline = now + (c.in.empty() ? limits_.idle_timeout : limits_.head_timeout);
  generation_++;
  return process(c, now);  // a pipelined request may be waiting
}

bool Server::resolve(uint64_t ticket, Response r, double now) {
  for (auto& [fd, c] : conns_) {
    if (c.phase != Phase::kWaiting || c.ticket != ticket) continue;
    respond(c, std::move(r), c.head_only, c.keep_alive, now);
    return true;
  }
  return false;
}

void Server::on_timeout(double now) {
  if (accept_paused_until_ >= 0 && accept_paused_until_ <= now) {
    accept_paused_until_ = -1;
    generation_++;
  }
  std::vector<int> expired;
  for (const auto& [fd, c] : conns_) {
    if (c.deadline <= now) expired.push_back(fd);
  }
  for (int fd : expired) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) continue;
    Conn& c = it->second;
    if (c.phase == Phase::kWaiting) {
      stats_.timeouts++;
      Response r = simple_response(503, "503 Service Unavailable: the scrape did not finish in time\n");
      respond(c, std::move(r), c.head_only, false, now);
      continue;
    }
    if (c.phase != Phase::kWriting) {
      // Bytes may have arrived while we were busy: read them before judging.
      size_t before = c.in.size();
      if (!read_some(c, now)) continue;
      if (c.in.size() > before) {
        process(c, now);
        it = conns_.find(fd);
        if (it == conns_.end() || it->second.deadline > now) continue;
      }
      if (c.phase == Phase::kReading && !c.in.empty()) {
        // Best effort: tell a slow client why, then close.
        stats_.responses_by_status[408]++;
        std::string r = serialize_head(simple_response(408), false);
        ssize_t ignored = ::send(fd, r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)ignored;
      }
    }
    if (c.phase != Phase::kIdle) stats_.timeouts++;
    close_conn(fd);
  }
}

void Server::close_conn(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  ::close(fd);
  conns_.erase(it);
  if (hooks_.release_fd) hooks_.release_fd();
  generation_++;
}

}  // namespace http
