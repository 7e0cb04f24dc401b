// Listening sockets and the HTTP/1.x connection state machine. Pure C++ over
// non-blocking POSIX sockets: no threads, no poll of its own. The worker's
// WaitEventSet loop asks interests(), waits, and calls on_ready()/on_timeout().
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/access.h"
#include "http/request.h"
#include "http/response.h"

namespace http {

struct Limits {
  size_t max_head_bytes = 8192;
  size_t max_clients = 16;
  double head_timeout = 10.0;   // to receive a whole request head (and the TLS handshake)
  double idle_timeout = 60.0;   // keep-alive between requests
  double write_timeout = 30.0;  // to send a whole response
  double wait_timeout = 60.0;   // for a deferred response (then 503)
  // A connection's whole life, however busy: no request starts after it,
  // so a client cannot keep a slot by trickling requests.
  double lifetime = 60.0;
  // Connections accepted while every slot is busy that may wait (1 s at
  // most) for one instead of a 503 at once; each holds a descriptor.
  size_t max_queued = 16;
  int gzip_level = 1;
};

class BodyStream;
class TlsContext;
class TlsSession;

// What the host process supplies (PostgreSQL's fd accounting, its log, its clock).
struct Hooks {
  std::function<bool()> acquire_fd;  // false: refuse this client
  std::function<void()> release_fd;
  std::function<void(const std::string&)> log;
  std::function<double()> clock;  // monotonic seconds; empty: only the `now` passed in
};

class Server {
 public:
  // May throw: the server then answers 500 and keeps serving.
  using Handler = std::function<Response(const Request&)>;

  Server(Limits limits, Handler handler, Hooks hooks = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void set_limits(const Limits& limits) { limits_ = limits; }
  // TLS for connections accepted from now on (null: plain HTTP).
  void set_tls(std::shared_ptr<TlsContext> tls) { tls_ = std::move(tls); }
  bool tls() const { return tls_ != nullptr; }
  // Authentication, extra headers, rate limit and allow-lists for requests
  // from now on.
  void set_access(Access access);

  // Closes the current listeners and binds every address of the comma- or
  // space-separated list ("*" = all interfaces). Returns "" when at least one
  // socket is bound, else the reason.
  std::string listen(const std::string& addresses, int port);
  void close_listeners();
  bool listening() const { return !listeners_.empty(); }
  int bound_port() const { return bound_port_; }

  struct Interest {
    int fd;
    bool read;
    bool write;
  };
  // Listeners (unless accepting is paused for lack of descriptors) and every
  // client. Above max_clients a new connection takes the slot of an idle or
  // stalled one, or gets a quick 503.
  std::vector<Interest> interests() const;
  // Changes whenever interests() would change.
  uint64_t generation() const { return generation_; }

  void on_ready(int fd, bool readable, bool writable, double now);
  void on_timeout(double now);
  // Answers a deferred request. False when its connection is gone.
  bool resolve(uint64_t ticket, Response r, double now);
  // Earliest client deadline or end of an accept pause, or negative when
  // there is none.
  double next_deadline() const;
  size_t client_count() const { return conns_.size(); }
  // Accepted connections waiting for a slot (each holds a descriptor too).
  size_t queued_count() const { return pending_.size(); }

  struct Stats {
    uint64_t accepted = 0;
    uint64_t rejected = 0;
    uint64_t requests = 0;
    uint64_t timeouts = 0;
    uint64_t accept_pauses = 0;  // listening paused for lack of descriptors
    uint64_t evicted = 0;        // closed to make room: idle, stalled head, slow reader
    uint64_t refused_busy = 0;   // quick 503: no slot could be freed
    uint64_t refused_network = 0;
    uint64_t tls_handshake_failures = 0;
    uint64_t auth_failures = 0;
    uint64_t bytes_sent = 0;  // body bytes on the wire (after gzip)
    uint64_t bytes_body = 0;  // body bytes before gzip
    std::map<int, uint64_t> responses_by_status;
  };
  const Stats& stats() const { return stats_; }

 private:
  enum class Phase { kHandshake, kIdle, kReading, kWaiting, kWriting };
  // What a response must follow of its request.
  struct Want {
    bool head_only = false;
    bool keep_alive = true;
    bool http11 = true;
    bool gzip = false;
    bool openmetrics = false;
  };
  struct Conn {
    Conn();
    ~Conn();
    Conn(Conn&&) noexcept;
    int fd = -1;
    Phase phase = Phase::kReading;
    std::unique_ptr<TlsSession> tls;
    bool hello_seen = false;  // a TLS record arrived (not plain HTTP)
    double accepted_at = 0;
    double phase_since = 0;
    double blocked_since = -1;  // kWriting: since when the socket takes nothing (-1: it does)
    // kWaiting: the deferred request, and how to answer it.
    uint64_t ticket = 0;
    Want want;
    double deadline = 0;
    std::string in;
    std::string out_head;
    size_t head_sent = 0;
    std::unique_ptr<BodyStream> stream;
    bool close_after = false;
  };

  bool is_listener(int fd) const;
  void accept_clients(double now);
  // Closes the connection that can best give up its slot; false if none can.
  bool make_room(double now);
  void refuse_busy(int fd);
  void add_conn(int fd, double accepted_at, double now);
  // Gives freed slots to waiting connections; 503 to those waiting too long.
  void admit_pending(double now);
  bool handshake(Conn& c, double now);
  ssize_t transport_send(Conn& c, const char* data, size_t len, bool more);
  double phase_deadline(const Conn& c, double phase_limit) const;
  // Access checks before the handler: a response, or none (status 0).
  Response check_access(const Request& req, double now);
  // Returns false when the connection was closed.
  bool read_some(Conn& c, double now);
  bool process(Conn& c, double now);
  bool flush(Conn& c, double now);
  void respond(Conn& c, Response r, const Want& want, double now);
  void close_conn(int fd);
  double refresh(double now) const;
  void log(const std::string& msg) const;

  Limits limits_;
  Handler handler_;
  Hooks hooks_;
  std::shared_ptr<TlsContext> tls_;
  Access access_;
  double rate_tokens_ = 0, rate_at_ = -1;
  std::vector<int> listeners_;
  int bound_port_ = 0;
  std::map<int, Conn> conns_;
  struct Pending {
    int fd;
    double since;
  };
  std::deque<Pending> pending_;
  double last_now_ = 0;  // the latest time the loop passed in
  uint64_t generation_ = 1;
  uint64_t next_ticket_ = 1;
  Stats stats_;
  // Out of descriptors (EMFILE, ENFILE) the pending connection stays queued
  // and the listener stays readable: listening pauses until this time
  // instead of the loop spinning on it.
  double accept_paused_until_ = -1;
  bool accept_pause_logged_ = false;  // once until a connection is accepted again
};

}  // namespace http
