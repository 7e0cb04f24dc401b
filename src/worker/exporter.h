// The exporter that runs in the background worker: one event loop over the
// latch and the HTTP sockets, the endpoints, the scrape cache and the
// exporter's own counters. Pure C++ over the guarded pgx API.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/server.h"
#include "pg/wait_set.h"
#include "scrape/scrape.h"
#include "worker/custom_client.h"
#include "worker/identity.h"
#include "worker/quarantine.h"

namespace worker {

class Exporter {
 public:
  Exporter();
  // The event loop. Returns only by process exit (SIGTERM, postmaster death,
  // a database/role change).
  [[noreturn]] void run();

 private:
  void loop_once();
  void apply_settings(bool initial);
  // The access settings' values in the files: a refused one closes what it
  // guards (the endpoint, or all SQL) until a reload fixes it.
  void check_access_settings();
  void try_listen(double now);
  // pg_exporter.web_config_file and the allow-lists: TLS, authentication,
  // headers for new connections. An invalid file keeps the previous
  // configuration, or the endpoint closed when there is none (start-up).
  void apply_web_config();
  // Why the endpoint must not listen now ("" : it may).
  const std::string& listen_blocked() const {
    return listen_refused_.empty() ? web_refused_ : listen_refused_;
  }
  void rebuild_wait_set();

  http::Response handle(const http::Request& req);
  http::Response metrics(const http::Request& req);
  http::Response health(const std::string& want_role);
  http::Response health_response(const scrape::Result& r, const std::string& want_role) const;

  // Runs one scrape for the /metrics requests waiting and answers every one
  // whose budget it covers (the others wait for the next).
  void serve_waiters();
  // Between a scrape's steps: accepts, reads and answers what needs no
  // scrape of its own (/health from this scrape's probe, a fresh cached
  // body); /metrics requests join the wait.
  void pump(const scrape::Result& so_far) noexcept;
  // Waits up to timeout_ms for a socket or the latch and serves what comes,
  // as pump does. Throws (a cancel).
  void wait_serving(const scrape::Result& so_far, long timeout_ms);
  // At proc_exit: no pid, not listening.
  static void on_exit();
  http::Response cached_metrics() const;
  bool cache_covers(double budget) const;

  double scrape_budget(const http::Request& req) const;
  // This scrape's spool file, or null and why not.
  std::shared_ptr<spool::File> open_spool(std::string* why);
  void log_outcomes(const scrape::Result& r);
  void add_exporter_metrics(const scrape::Result& r, metrics::Sink& out) const;
  void publish(const scrape::Result& r) const;
  void publish_listen_state() const;

  http::Server server_;
  pgx::WaitSet wait_set_;
  uint64_t wait_set_generation_ = UINT64_MAX;

  // Settings in force, to see what a reload changed.
  std::string listen_addresses_;
  int port_ = -1;
  std::string database_;
  std::string role_;
  std::string collectors_;
  int lock_timeout_ms_ = -1;

  std::string listen_error_;
  double next_listen_attempt_ = 0;
  std::string listen_refused_;      // non-empty: not listening, and why
  std::string web_refused_;         // the web config file at start-up is invalid: not listening
  bool web_config_loaded_ = false;  // a valid web configuration is in force
  bool web_config_ok_ = true;       // the last read of the file succeeded
  std::string web_summary_;         // what the configuration in force does, as logged
  Identity identity_;
  CustomClient custom_;

  // /metrics requests waiting for a scrape, each with its own budget.
  struct Waiter {
    uint64_t ticket;
    double budget;
  };
  std::vector<Waiter> waiters_;
  // The scrape running now (between its steps), or null.
  const scrape::Result* running_ = nullptr;

  std::shared_ptr<const http::Body> cached_body_;
  double cached_at_ = 0;
  // What the cached body may stand in for: a scrape with at most this
  // budget, or any when it was complete (nothing skipped for time).
  double cached_budget_ = 0;
  bool cached_complete_ = false;
  // Reads a /metrics scrape keeps for the next (the catalog, pg_settings).
  std::shared_ptr<collectors::KeptReads> kept_ = std::make_shared<collectors::KeptReads>();
  // The last scrape's body: once every connection has sent it (and the cache
  // let it go), its memory is handed back to the system.
  std::weak_ptr<const http::Body> sent_body_;
  bool trim_when_sent_ = false;

  uint64_t scrapes_total_ = 0;
  uint64_t scrape_errors_total_ = 0;
  bool last_scrape_failed_ = false;
  std::map<std::string, uint64_t> collector_failures_;
  std::map<std::string, std::string> logged_error_;  // collector -> error last logged
  std::string logged_scrape_error_;
  std::string logged_spool_error_;
};

}  // namespace worker
