// The exporter that runs in the background worker: one event loop over the
// latch and the HTTP sockets, the endpoints, the scrape cache and the
// exporter's own counters. Pure C++ over the guarded pgx API.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "http/server.h"
#include "pg/wait_set.h"
#include "scrape/scrape.h"

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
  void try_listen(double now);

  http::Response handle(const http::Request& req);
  http::Response metrics(const http::Request& req);
  http::Response health(const std::string& want_role);

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

  std::shared_ptr<const http::Body> cached_body_;
  double cached_at_ = 0;
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
