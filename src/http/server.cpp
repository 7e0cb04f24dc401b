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

#include "http/body_stream.h"
#include "http/negotiate.h"
#include "http/text.h"
#include "http/tls_server.h"
#include "metrics/openmetrics.h"

namespace http {

namespace {

constexpr size_t kReadChunk = 16384;
constexpr double kAcceptPauseSeconds = 0.25;
// A response whose client has taken nothing for this long may be closed for
// a new connection when every slot is taken (a slow reader holding its slot;
// a scraper reads as fast as loopback or its network carries).
constexpr double kSlowWriterSeconds = 0.25;
// How long a connection accepted while every slot is busy may wait for one.
constexpr double kQueueSeconds = 1.0;
constexpr double kQueueRecheckSeconds = 0.02;
constexpr double kFreshSeconds = 0.1;
// Bodies smaller than this are not worth compressing.
constexpr uint64_t kGzipMinBytes = 1024;
constexpr const char kBusyResponse[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 47\r\n"
    "Connection: close\r\nRetry-After: 1\r\n\r\n503 Service Unavailable: too many connections\n";
constexpr const char kPlainOnTls[] =
    "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

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

Server::Conn::Conn() = default;
Server::Conn::~Conn() = default;
Server::Conn::Conn(Conn&&) noexcept = default;

Server::Server(Limits limits, Handler handler, Hooks hooks)
    : limits_(limits), handler_(std::move(handler)), hooks_(std::move(hooks)) {}

Server::~Server() {
  close_listeners();
  while (!conns_.empty()) close_conn(conns_.begin()->first);
  for (const Pending& p : pending_) {
    ::close(p.fd);
    if (hooks_.release_fd) hooks_.release_fd();
  }
}

void Server::log(const std::string& msg) const {
  if (hooks_.log) hooks_.log(msg);
}

double Server::refresh(double now) const {
  if (!hooks_.clock) return now;
  double t = hooks_.clock();
  return t > now ? t : now;
}

void Server::set_access(Access access) {
  access_ = std::move(access);
  rate_tokens_ = access_.rate_burst;
  rate_at_ = -1;
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
  for (std::string host : split_list(addresses)) {
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
      if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 512) != 0) {
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
  if (accept_paused_until_ < 0) {
    for (int fd : listeners_) out.push_back({fd, true, false});
  }
  for (const auto& [fd, c] : conns_) {
    // A waiting connection is read only to notice that it closed.
    bool writing = c.phase == Phase::kWriting;
    if (c.tls && c.tls->wants_write()) writing = true;
    out.push_back({fd, !writing, writing});
  }
  return out;
}

double Server::next_deadline() const {
  double d = accept_paused_until_;
  // A connection waits for a slot: look again soon (a slot frees when a
  // request finishes or a reader stalls, not always with an event).
  if (!pending_.empty() && (d < 0 || last_now_ + kQueueRecheckSeconds < d))
    d = last_now_ + kQueueRecheckSeconds;
  for (const auto& [fd, c] : conns_) {
    if (d < 0 || c.deadline < d) d = c.deadline;
  }
  return d;
}

// A phase's deadline, never past the connection's lifetime (a response
// already begun may finish: it has its own write deadline).
double Server::phase_deadline(const Conn& c, double until) const {
  return std::min(until, c.accepted_at + limits_.lifetime);
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
  last_now_ = std::max(last_now_, now);
  if (!pending_.empty()) admit_pending(now);
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (c.phase == Phase::kHandshake) {
    if (readable || writable) handshake(c, now);
    return;
  }
  if (c.phase == Phase::kWriting) {
    if (writable || (c.tls && readable)) flush(c, now);
    return;
  }
  if (c.phase == Phase::kWaiting) {
    // Keeps what it sends for later (up to one request head); notices a close.
    if (readable && read_some(c, now) && c.in.size() > limits_.max_head_bytes) close_conn(c.fd);
    return;
  }
  if ((readable || writable) && read_some(c, now)) process(c, now);
}

bool Server::make_room(double now) {
  // Idle keep-alive connections first (the longest idle), then heads that
  // are still arriving (the oldest: a real client sends its head at once),
  // then responses read too slowly. A waiting request keeps its slot.
  int victim = -1;
  int rank = 4;
  double since = 0;
  for (const auto& [fd, c] : conns_) {
    int r = 4;
    if (c.phase == Phase::kIdle) {
      r = 0;
    } else if ((c.phase == Phase::kReading || c.phase == Phase::kHandshake) &&
               (!c.in.empty() || now - c.accepted_at >= kFreshSeconds)) {
      // (One accepted a moment ago whose request has not arrived yet is
      // spared: its bytes are usually on their way.)
      r = 1;
    } else if (c.phase == Phase::kWriting && c.blocked_since >= 0 &&
               now - c.blocked_since >= kSlowWriterSeconds) {
      r = 2;
    }
    const double t = r == 1 ? c.accepted_at : r == 2 ? c.blocked_since : c.phase_since;
    if (r < rank || (r == rank && r < 4 && t < since)) {
      victim = fd;
      rank = r;
      since = t;
    }
  }
  if (victim < 0) return false;
  stats_.evicted++;
  close_conn(victim);
  return true;
}

void Server::refuse_busy(int fd) {
  // What the client already sent is read first, so that closing sends a FIN
  // and the client sees the 503 rather than a reset.
  char buf[4096];
  ssize_t ignored = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  if (!tls_) ignored = ::send(fd, kBusyResponse, sizeof kBusyResponse - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
  ::close(fd);
  if (hooks_.release_fd) hooks_.release_fd();
  stats_.refused_busy++;
}

void Server::accept_clients(double now) {
  // Round-robin over the listeners until all would block, taking at most
  // half the slots' worth in one go: a connection accepted now is read in
  // this loop turn before the next batch may push it out.
  const size_t batch = std::max<size_t>(4, limits_.max_clients / 2);
  size_t taken = 0;
  bool progress = true;
  while (progress && taken < batch) {
    progress = false;
    for (size_t k = 0; k < listeners_.size() && taken < batch; k++) {
      sockaddr_storage peer{};
      socklen_t peer_len = sizeof peer;
      int fd = ::accept4(listeners_[k], reinterpret_cast<sockaddr*>(&peer), &peer_len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
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
      taken++;
      accept_pause_logged_ = false;
      if (!network_allows(access_.networks, reinterpret_cast<sockaddr*>(&peer))) {
        ::close(fd);
        stats_.refused_network++;
        continue;
      }
      if (hooks_.acquire_fd && !hooks_.acquire_fd()) {
        ::close(fd);
        stats_.rejected++;
        continue;
      }
      if (conns_.size() >= limits_.max_clients && !make_room(now)) {
        // Every slot is busy with requests in progress (waiting for the
        // scrape, or being sent): wait for one briefly, in the server
        // rather than in the kernel's backlog, or get a quick 503.
        if (limits_.max_queued == 0) {
          refuse_busy(fd);
          continue;
        }
        if (pending_.size() >= limits_.max_queued) {
          // The newest arrival is the likeliest scraper (a burst that came
          // before it is what fills the queue): the oldest waiting goes.
          refuse_busy(pending_.front().fd);
          pending_.pop_front();
        }
        pending_.push_back({fd, now});
        generation_++;
        continue;
      }
      add_conn(fd, now, now);
    }
  }
}

void Server::add_conn(int fd, double accepted_at, double now) {
  Conn c;
  c.fd = fd;
  c.accepted_at = accepted_at;
  c.phase_since = now;
  if (tls_) {
    std::string note;
    ssl_ctx_st* ctx = tls_->current(now, &note);
    if (!note.empty()) log(note);
    c.tls = std::make_unique<TlsSession>(ctx, fd);
    c.phase = Phase::kHandshake;
  } else {
    c.phase = Phase::kReading;
  }
  c.deadline = phase_deadline(c, now + limits_.head_timeout);
  auto [it, inserted] = conns_.emplace(fd, std::move(c));
  (void)inserted;
  stats_.accepted++;
  generation_++;
  // The request (or ClientHello) is usually there already.
  Conn& added = it->second;
  if (added.phase == Phase::kHandshake) {
    handshake(added, now);
  } else if (read_some(added, now)) {
    process(added, now);
  }
}

void Server::admit_pending(double now) {
  // Newest first: under a burst the latest arrival is the likeliest to be a
  // scraper still waiting (a burst that came before it has had its turn);
  // the oldest go first when the wait is over.
  while (!pending_.empty() && (conns_.size() < limits_.max_clients || make_room(now))) {
    const Pending p = pending_.back();
    pending_.pop_back();
    generation_++;
    add_conn(p.fd, p.since, now);
  }
  while (!pending_.empty() && now - pending_.front().since >= kQueueSeconds) {
    refuse_busy(pending_.front().fd);
    pending_.pop_front();
    generation_++;
  }
}

bool Server::handshake(Conn& c, double now) {
  if (!c.hello_seen) {
    // Plain HTTP on the TLS port: say so, as Go's server does, and close.
    char first = 0;
    ssize_t n = ::recv(c.fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) {
      close_conn(c.fd);
      return false;
    }
    if (n == 1 && first != 0x16) {
      ssize_t ignored = ::send(c.fd, kPlainOnTls, sizeof kPlainOnTls - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      (void)ignored;
      stats_.responses_by_status[400]++;
      stats_.tls_handshake_failures++;
      close_conn(c.fd);
      return false;
    }
    if (n < 0) return true;  // nothing yet
    c.hello_seen = true;
  }
  std::string error;
  const bool had_write = c.tls->wants_write();
  switch (c.tls->handshake(&error)) {
    case TlsSession::Step::kAgain:
      if (had_write != c.tls->wants_write()) generation_++;
      return true;
    case TlsSession::Step::kFailed:
      stats_.tls_handshake_failures++;
      close_conn(c.fd);
      return false;
    case TlsSession::Step::kDone:
      break;
  }
  const std::string sans = c.tls->check_sans(tls_->settings().client_allowed_sans);
  if (!sans.empty()) {
    stats_.tls_handshake_failures++;
    close_conn(c.fd);
    return false;
  }
  c.phase = Phase::kReading;
  c.phase_since = now;
  generation_++;
  // The request may have come with the last handshake flight.
  if (read_some(c, now)) return process(c, now);
  return false;
}

bool Server::read_some(Conn& c, double now) {
  char buf[kReadChunk];
  // TLS hands out one record at a time and may hold more than the socket
  // shows: read until it has nothing (bounded by the head limit).
  for (;;) {
    const bool had_write = c.tls && c.tls->wants_write();
    ssize_t n = c.tls ? c.tls->read(buf, sizeof buf) : ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      close_conn(c.fd);
      return false;
    }
    if (c.tls && had_write != c.tls->wants_write()) generation_++;
    if (n < 0) return true;
    if (c.phase == Phase::kIdle) {
      if (now >= c.accepted_at + limits_.lifetime) {
        close_conn(c.fd);  // no request starts past the connection's lifetime
        return false;
      }
      c.phase = Phase::kReading;
      c.phase_since = now;
      c.deadline = phase_deadline(c, now + limits_.head_timeout);
      generation_++;
    }
    c.in.append(buf, static_cast<size_t>(n));
    if (!c.tls || c.in.size() > limits_.max_head_bytes + kReadChunk) return true;
  }
}

Response Server::check_access(const Request& req, double now) {
  Response none;
  none.status = 0;
  if (!host_allowed(access_.hosts, req.header("host"))) {
    return simple_response(403, "403 Forbidden: this Host is not in pg_exporter.allowed_hosts\n");
  }
  if (access_.rate_interval > 0) {
    if (rate_at_ < 0) rate_at_ = now;
    rate_tokens_ =
        std::min<double>(access_.rate_burst, rate_tokens_ + (now - rate_at_) / access_.rate_interval);
    rate_at_ = now;
    if (rate_tokens_ < 1) return simple_response(429);
    rate_tokens_ -= 1;
  }
  if (access_.auth) {
    switch (access_.auth->check(req.header("authorization"), now)) {
      case BasicAuth::Verdict::kAllowed:
        break;
      case BasicAuth::Verdict::kDenied: {
        stats_.auth_failures++;
        Response r = simple_response(401);
        r.extra_headers.emplace_back("WWW-Authenticate", "Basic");
        return r;
      }
      case BasicAuth::Verdict::kBusy: {
        stats_.auth_failures++;
        Response r = simple_response(503, "503 Service Unavailable: too many password checks, retry\n");
        r.extra_headers.emplace_back("Retry-After", "1");
        return r;
      }
    }
  }
  return none;
}

bool Server::process(Conn& c, double now) {
  const int fd = c.fd;  // `c` is gone once its connection closes
  while (c.phase != Phase::kWriting && c.phase != Phase::kWaiting && !c.in.empty()) {
    Request req;
    ParseResult pr = parse_request(c.in, limits_.max_head_bytes, &req);
    if (pr.status == ParseStatus::kIncomplete) return true;
    if (pr.status == ParseStatus::kError) {
      c.in.clear();
      Want w;
      w.keep_alive = false;
      respond(c, simple_response(pr.error_status), w, now);
      break;
    }
    c.in.erase(0, pr.consumed);
    stats_.requests++;
    req.ticket = next_ticket_++;
    Want want;
    want.head_only = req.method == "HEAD";
    want.keep_alive = req.keep_alive && now < c.accepted_at + limits_.lifetime;
    want.http11 = req.version_minor >= 1;
    want.gzip = accepts_gzip(req.header("accept-encoding"));
    want.openmetrics = prefers_openmetrics(req.header("accept"));
    Response resp = check_access(req, now);
    if (resp.status == 0) {
      try {
        resp = handler_(req);
      } catch (...) {
        resp = simple_response(500);
      }
    }
    now = refresh(now);
    if (resp.deferred) {
      c.phase = Phase::kWaiting;
      c.phase_since = now;
      c.ticket = req.ticket;
      c.want = want;
      c.deadline = now + limits_.wait_timeout;
      generation_++;
      return true;
    }
    respond(c, std::move(resp), want, now);
    if (conns_.find(fd) == conns_.end()) return false;
  }
  return conns_.find(fd) != conns_.end();
}

void Server::respond(Conn& c, Response r, const Want& want, double now) {
  stats_.responses_by_status[r.status]++;
  StreamOptions o;
  o.openmetrics = r.exposition && want.openmetrics;
  if (o.openmetrics) r.content_type = metrics::kOpenMetricsContentType;
  o.gzip = want.gzip && want.http11 && r.body && r.body->size() >= kGzipMinBytes;
  o.gzip_level = limits_.gzip_level;
  o.sendfile = !c.tls;
  bool keep_alive = want.keep_alive;
  HeadOptions h;
  h.gzip = o.gzip;
  h.vary = r.exposition || (r.body && r.body->size() >= kGzipMinBytes);
  h.more_headers = &access_.headers;
  if (o.openmetrics || o.gzip) {
    if (want.http11) {
      o.chunked = h.chunked = true;
    } else {
      h.length_unknown = true;  // HTTP/1.0: the body ends with the connection
      keep_alive = false;
    }
  }
  c.out_head = serialize_head(r, keep_alive, h);
  c.head_sent = 0;
  c.stream.reset();
  if (!want.head_only && r.body) c.stream = std::make_unique<BodyStream>(r.body, o);
  c.close_after = !keep_alive;
  c.phase = Phase::kWriting;
  c.phase_since = now;
  c.blocked_since = -1;
  c.deadline = now + limits_.write_timeout;
  generation_++;
  flush(c, now);
}

ssize_t Server::transport_send(Conn& c, const char* data, size_t len, bool more) {
  if (c.tls) {
    const bool had_write = c.tls->wants_write();
    ssize_t n = c.tls->write(data, len);
    if (had_write != c.tls->wants_write()) generation_++;
    return n;
  }
  return ::send(c.fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0));
}

bool Server::flush(Conn& c, double now) {
  for (;;) {
    ssize_t n;
    if (c.head_sent < c.out_head.size()) {
      n = transport_send(c, c.out_head.data() + c.head_sent, c.out_head.size() - c.head_sent,
                         c.stream != nullptr);
      if (n > 0) {
        c.head_sent += static_cast<size_t>(n);
        c.blocked_since = -1;
        continue;
      }
    } else {
      if (!c.stream) break;
      BodyStream::Out o;
      std::string error;
      if (!c.stream->next(&o, &error)) {
        if (!error.empty()) {
          log("response abandoned: " + error);
          close_conn(c.fd);
          return false;
        }
        break;
      }
      if (o.file_fd >= 0) {
        n = send_file_range(c.fd, o.file_fd, o.file_offset, o.file_len, o.more);
      } else {
        n = transport_send(c, o.data, o.len, o.more);
      }
      if (n > 0) {
        c.stream->consumed(static_cast<uint64_t>(n));
        stats_.bytes_sent += static_cast<uint64_t>(n);
        c.blocked_since = -1;
        continue;
      }
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (c.blocked_since < 0) c.blocked_since = now;
      return true;
    }
    close_conn(c.fd);  // EPIPE, ECONNRESET: the client went away
    return false;
  }
  // Response complete.
  if (c.stream) stats_.bytes_body += c.stream->bytes_in();
  c.out_head.clear();
  c.stream.reset();
  if (c.close_after || now >= c.accepted_at + limits_.lifetime) {
    close_conn(c.fd);
    return false;
  }
  c.phase = c.in.empty() ? Phase::kIdle : Phase::kReading;
  c.phase_since = now;
  c.deadline = phase_deadline(c, now + (c.in.empty() ? limits_.idle_timeout : limits_.head_timeout));
  generation_++;
  return process(c, now);  // a pipelined request may be waiting
}

bool Server::resolve(uint64_t ticket, Response r, double now) {
  for (auto& [fd, c] : conns_) {
    if (c.phase != Phase::kWaiting || c.ticket != ticket) continue;
    respond(c, std::move(r), c.want, now);
    return true;
  }
  return false;
}

void Server::on_timeout(double now) {
  if (accept_paused_until_ >= 0 && accept_paused_until_ <= now) {
    accept_paused_until_ = -1;
    generation_++;
  }
  last_now_ = std::max(last_now_, now);
  if (!pending_.empty()) admit_pending(now);
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
      Want w = c.want;
      w.keep_alive = false;
      respond(c, std::move(r), w, now);
      continue;
    }
    if (c.phase == Phase::kReading || c.phase == Phase::kIdle) {
      // Bytes may have arrived while we were busy: read them before judging.
      size_t before = c.in.size();
      if (!read_some(c, now)) continue;
      if (c.in.size() > before) {
        process(c, now);
        it = conns_.find(fd);
        if (it == conns_.end() || it->second.deadline > now) continue;
      }
      if (c.phase == Phase::kReading && !c.in.empty() && !c.tls) {
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
  if (it->second.tls) it->second.tls->shutdown();
  it->second.tls.reset();
  ::close(fd);
  conns_.erase(it);
  if (hooks_.release_fd) hooks_.release_fd();
  generation_++;
}

}  // namespace http
