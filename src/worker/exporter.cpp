#include "worker/exporter.h"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "collectors/selection.h"
#include "guc.h"
#include "http/tls_server.h"
#include "metrics/render.h"
#include "webconfig/web_config.h"
#include "pg/backend.h"
#include "pg/session.h"
#include "worker/shared_state.h"

namespace worker {

namespace {

constexpr double kListenRetrySeconds = 10.0;
// The server's own folder for temporary files, relative to the data
// directory (the worker's working directory): where sorts spill too.
constexpr const char* kSpoolDir = "base/pgsql_tmp";
constexpr const char* kVersion = "1.1.0";

constexpr const char* kLandingPage =
    "<!DOCTYPE html>\n<html><head><title>pg_exporter</title></head><body>\n"
    "<h1>pg_exporter</h1>\n<p>PostgreSQL metrics exporter running inside the server.</p>\n"
    "<ul><li><a href=\"/metrics\">Metrics</a></li>\n"
    "<li><a href=\"/health\">Health</a> (also <a href=\"/health/primary\">/health/primary</a> and "
    "<a href=\"/health/standby\">/health/standby</a>)</li></ul>\n</body></html>\n";

// Descriptors the worker holds besides its clients (a spool file) out of
// its share of the server's budget.
constexpr int kReservedFds = 2;

size_t max_clients_allowed() {
  const int budget = pgx::external_fd_budget() - kReservedFds;
  return static_cast<size_t>(std::max(1, std::min(guc::max_clients, budget)));
}

http::Limits limits_from_settings() {
  http::Limits l;
  l.max_clients = max_clients_allowed();
  l.head_timeout = guc::client_timeout_ms / 1000.0;
  l.write_timeout = 3 * guc::client_timeout_ms / 1000.0;
  l.idle_timeout = 6 * guc::client_timeout_ms / 1000.0;
  l.lifetime = 6 * guc::client_timeout_ms / 1000.0;
  // Up to as many again may wait a second for a slot, within the budget.
  const int spare = pgx::external_fd_budget() - kReservedFds - static_cast<int>(l.max_clients);
  l.max_queued = static_cast<size_t>(std::max(0, std::min(static_cast<int>(l.max_clients), spare)));
  return l;
}

std::string str(const char* s) { return s ? s : ""; }

http::Response text_response(int status, std::string body, const char* content_type) {
  http::Response r;
  r.status = status;
  r.content_type = content_type;
  r.body = std::make_shared<const http::Body>(std::move(body));
  return r;
}

}  // namespace

Exporter::Exporter()
    : server_(
          limits_from_settings(), [this](const http::Request& req) { return handle(req); },
          http::Hooks{pgx::acquire_external_fd, pgx::release_external_fd,
                      [](const std::string& m) { pgx::log(pgx::LogLevel::kWarning, m); },
                      pgx::monotonic_seconds}),
      identity_(str(guc::role)) {
  database_ = str(guc::database);
  role_ = str(guc::role);
  shared::update(
      [](shared::Status* st, const void*) {
        st->worker_pid = pgx::my_pid();
        st->custom.main_latch = shared::my_latch();
      },
      nullptr);
  pgx::at_worker_exit(on_exit);
  apply_settings(true);
}

void Exporter::check_access_settings() {
  std::string listen;
  for (const pgx::RefusedSetting& r : pgx::refused_settings(
           {"pg_exporter.listen_addresses", "pg_exporter.port", "pg_exporter.web_config_file",
            "pg_exporter.allowed_hosts", "pg_exporter.allowed_networks"})) {
    if (listen.empty())
      listen = r.name + " = '" + r.value + "' in the configuration files is refused (" + r.why + ")";
  }
  if (listen != listen_refused_) {
    if (!listen.empty())
      pgx::log(pgx::LogLevel::kWarning, listen + ": not listening until a reload fixes it");
    listen_refused_ = listen;
    port_ = -1;  // listen again (or stop) below
  }
  identity_.refresh();
  struct Args {
    std::string role;
    std::string error;
  } args{identity_.assumed() ? pgx::current_role_name() : std::string(), identity_.refused()};
  shared::update(
      [](shared::Status* st, const void* p) {
        const auto* a = static_cast<const Args*>(p);
        shared::set_text(st->role, sizeof st->role, a->role);
        shared::set_text(st->sql_error, sizeof st->sql_error, a->error);
      },
      &args);
}

void Exporter::apply_settings(bool initial) {
  if (!initial && (str(guc::database) != database_ || str(guc::role) != role_)) {
    pgx::restart_worker("pg_exporter.database or pg_exporter.role changed");
  }
  check_access_settings();
  apply_web_config();
  if (max_clients_allowed() < static_cast<size_t>(guc::max_clients))
    pgx::log(pgx::LogLevel::kWarning, "pg_exporter.max_clients = " + std::to_string(guc::max_clients) +
                                          " is above what the server's " +
                                          "file descriptor budget allows (max_files_per_process): " +
                                          std::to_string(max_clients_allowed()) + " are served at once");
  server_.set_limits(limits_from_settings());
  if (guc::lock_timeout_ms != lock_timeout_ms_) {
    pgx::set_lock_timeout(guc::lock_timeout_ms);
    lock_timeout_ms_ = guc::lock_timeout_ms;
  }
  if (str(guc::collectors) != collectors_) {
    collectors_ = str(guc::collectors);
    cached_body_.reset();
  }
  if (str(guc::listen_addresses) != listen_addresses_ || guc::port != port_) {
    listen_addresses_ = str(guc::listen_addresses);
    port_ = guc::port;
    server_.close_listeners();
    listen_error_ = listen_blocked();
    next_listen_attempt_ = 0;
    if (listen_blocked().empty()) try_listen(pgx::monotonic_seconds());
    publish_listen_state();
  }
}

void Exporter::apply_web_config() {
  const std::string path = str(guc::web_config_file);
  webconfig::Config cfg;
  std::string error;
  std::shared_ptr<http::TlsContext> tls;
  if (!path.empty()) {
    error = webconfig::load(path, &cfg);
    if (error.empty() && cfg.tls.enabled) tls = http::TlsContext::create(cfg.tls, &error);
  }
  if (!error.empty()) {
    const std::string msg = "pg_exporter.web_config_file = '" + path + "' is refused (" + error + ")";
    web_config_ok_ = false;
    if (web_config_loaded_) {
      pgx::log(pgx::LogLevel::kWarning, msg + ": the previous web configuration stays in force");
    } else if (msg != web_refused_) {
      pgx::log(pgx::LogLevel::kWarning, msg + ": not listening until a reload fixes it");
      web_refused_ = msg;
      port_ = -1;  // stop listening (below in apply_settings)
    }
    return;
  }
  web_config_ok_ = true;
  web_config_loaded_ = true;
  if (!web_refused_.empty()) {
    web_refused_.clear();
    port_ = -1;  // listen again
  }
  http::Access access;
  access.headers = cfg.headers;
  if (!cfg.users.empty()) access.auth = std::make_shared<http::BasicAuth>(cfg.users);
  access.rate_interval = cfg.rate_limit.interval_seconds;
  access.rate_burst = cfg.rate_limit.burst;
  std::string why;
  // Valid: the settings' check hooks ran the same parsers.
  http::parse_hosts(str(guc::allowed_hosts), &access.hosts, &why);
  http::parse_networks(str(guc::allowed_networks), &access.networks, &why);
  server_.set_tls(tls);
  server_.set_access(std::move(access));
  std::string summary =
      path.empty() ? "no web config file: plain HTTP, no authentication"
                   : "web config file '" + path + "': " + (tls ? "TLS" : "plain HTTP") + ", " +
                         (cfg.users.empty() ? "no authentication"
                                            : std::to_string(cfg.users.size()) + " basic auth user(s)");
  if (summary != web_summary_) {
    if (!web_summary_.empty() || !path.empty()) pgx::log(pgx::LogLevel::kLog, summary);
    web_summary_ = summary;
  }
}

void Exporter::try_listen(double now) {
  if (!listen_blocked().empty() || server_.listening() || now < next_listen_attempt_) return;
  std::string err = server_.listen(listen_addresses_, port_);
  if (err.empty()) {
    pgx::log(pgx::LogLevel::kLog,
             "listening on " + listen_addresses_ + " port " + std::to_string(server_.bound_port()));
    listen_error_.clear();
  } else {
    // Say it loudly once; keep retrying quietly.
    pgx::log(err == listen_error_ ? pgx::LogLevel::kDebug : pgx::LogLevel::kWarning,
             err + "; retrying every " + std::to_string(static_cast<int>(kListenRetrySeconds)) + " s");
    listen_error_ = err;
    next_listen_attempt_ = now + kListenRetrySeconds;
  }
  publish_listen_state();
}

void Exporter::run() {
  for (;;) {
    try {
      loop_once();
    } catch (const std::exception& e) {
      // Whatever failed, the worker keeps serving.
      if (pgx::in_transaction()) pgx::abort_transaction();
      pgx::log(pgx::LogLevel::kWarning, std::string("event loop: ") + e.what());
      wait_set_generation_ = UINT64_MAX;
      pgx::backoff(100);
    } catch (...) {
      if (pgx::in_transaction()) pgx::abort_transaction();
      pgx::log(pgx::LogLevel::kWarning, "event loop: unknown exception");
      wait_set_generation_ = UINT64_MAX;
      pgx::backoff(100);
    }
  }
}

void Exporter::rebuild_wait_set() {
  if (server_.generation() == wait_set_generation_) return;
  std::vector<pgx::SocketInterest> sockets;
  for (const auto& i : server_.interests()) sockets.push_back({i.fd, i.read, i.write});
  wait_set_generation_ = server_.generation();
  wait_set_.rebuild(sockets);
}

void Exporter::loop_once() {
  rebuild_wait_set();

  double now = pgx::monotonic_seconds();
  // A cached scrape is tens of MB on a large database: let it go when it
  // expires, not when the next request comes (connections still sending it
  // hold their own reference).
  if (cached_body_ && now - cached_at_ >= guc::cache_ttl_ms / 1000.0) cached_body_.reset();
  double wake = server_.next_deadline();
  if (!server_.listening() && (wake < 0 || next_listen_attempt_ < wake)) wake = next_listen_attempt_;
  if (cached_body_) {
    const double expiry = cached_at_ + guc::cache_ttl_ms / 1000.0;
    if (wake < 0 || expiry < wake) wake = expiry;
  }
  long timeout_ms = -1;
  if (wake >= 0) timeout_ms = wake <= now ? 0 : static_cast<long>(std::ceil((wake - now) * 1000.0));
  if (!waiters_.empty()) timeout_ms = 0;

  std::vector<pgx::ReadyEvent> ready = wait_set_.wait(timeout_ms);

  pgx::reset_latch_and_check_interrupts();
  if (pgx::reload_config_if_requested()) apply_settings(false);

  now = pgx::monotonic_seconds();
  for (const pgx::ReadyEvent& ev : ready) {
    if (ev.fd < 0) continue;
    server_.on_ready(ev.fd, ev.readable, ev.writable, pgx::monotonic_seconds());
  }
  server_.on_timeout(pgx::monotonic_seconds());
  serve_waiters();
  try_listen(pgx::monotonic_seconds());
  if (trim_when_sent_ && sent_body_.expired()) {
    trim_when_sent_ = false;
    malloc_trim(0);
  }
}

http::Response Exporter::handle(const http::Request& req) {
  const std::string& path = req.path;
  bool known = path == "/" || path == "/metrics" || path == "/health" || path == "/health/primary" ||
               path == "/health/standby" || path == "/health/replica";
  if (!known) return http::simple_response(404);
  if (req.method != "GET" && req.method != "HEAD") {
    http::Response r = http::simple_response(405);
    r.extra_headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (path == "/metrics") return metrics(req);
  if (path == "/") return text_response(200, kLandingPage, "text/html; charset=utf-8");
  if (path == "/health/primary") return health("primary");
  if (path == "/health/standby" || path == "/health/replica") return health("standby");
  return health("");
}

std::shared_ptr<spool::File> Exporter::open_spool(std::string* why) {
  if (guc::spool_keep_free_mb < 0) return nullptr;  // chosen: no reason to log
  if (!pgx::acquire_external_fd()) {
    *why = "no file descriptor left for a temporary file";
    return nullptr;
  }
  return spool::File::create(kSpoolDir, why, pgx::release_external_fd,
                             static_cast<uint64_t>(guc::spool_keep_free_mb) << 20);
}

double Exporter::scrape_budget(const http::Request& req) const {
  // The header may shorten the budget, never lengthen it.
  double budget = guc::scrape_timeout_ms / 1000.0;
  std::string_view h = req.header("x-prometheus-scrape-timeout-seconds");
  if (!h.empty() && h.size() < 32) {
    std::string s(h);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    // Leave Prometheus a little time to receive the answer.
    if (end != s.c_str() && std::isfinite(v) && v > 0) budget = std::min(budget, std::max(0.1, v * 0.9));
  }
  return budget;
}

bool Exporter::cache_covers(double budget) const {
  if (!cached_body_ || pgx::monotonic_seconds() - cached_at_ >= guc::cache_ttl_ms / 1000.0) return false;
  return cached_complete_ || budget <= cached_budget_;
}

http::Response Exporter::cached_metrics() const {
  http::Response r;
  r.content_type = metrics::kExpositionContentType;
  r.exposition = true;
  r.body = cached_body_;
  return r;
}

// A request whose budget a fresh cached scrape covers gets it at once; the
// others wait for the next scrape (or join the one running). A short budget
// (X-Prometheus-Scrape-Timeout-Seconds) shortens only the scrapes it is
// served from: never one that a client with a longer budget gets.
http::Response Exporter::metrics(const http::Request& req) {
  const double budget = scrape_budget(req);
  if (cache_covers(budget)) return cached_metrics();
  waiters_.push_back({req.ticket, budget});
  return http::deferred_response();
}

void Exporter::serve_waiters() {
  if (waiters_.empty() || running_ != nullptr) return;
  double budget = 0;
  for (const Waiter& w : waiters_) budget = std::max(budget, w.budget);

  scrape::Options opts;
  std::string why;
  if (!collectors::parse_selection(collectors_, &opts.collectors, &why)) {
    // The check hook makes this unreachable; fall back rather than fail.
    collectors::parse_selection("default", &opts.collectors, &why);
  }
  opts.budget_seconds = budget;
  opts.statement_timeout_ms = guc::statement_timeout_ms;
  opts.own_transaction = true;
  opts.database = database_;
  opts.sql_refused = identity_.refused();
  opts.superuser_owners_allowed = guc::superuser_metrics;
  opts.between = [this](const scrape::Result& so_far) { pump(so_far); };
  // Custom metrics run in their own worker: one that hangs or ends its
  // backend stops that worker, not this one, and this one serves meanwhile.
  opts.remote = [this](const collectors::Collector&, int budget_left_ms, const scrape::Result& so_far) {
    scrape::RemoteRequest req;
    req.budget_ms = budget_left_ms;
    req.statement_timeout_ms = guc::statement_timeout_ms;
    req.superuser_owners_allowed = guc::superuser_metrics;
    req.taken = so_far.sink.names();
    return custom_.run(req, [this, &so_far](long ms) { wait_serving(so_far, ms); });
  };
  std::string spool_error;
  opts.spool = open_spool(&spool_error);
  opts.kept = kept_;
  opts.size_ttl_ms = guc::size_ttl_ms;

  scrape::Result r = scrape::run(opts);
  scrapes_total_++;
  bool failed = !r.up;
  for (const auto& o : r.outcomes) {
    if (!o.success) {
      failed = true;
      collector_failures_[o.name]++;
    }
  }
  if (failed) scrape_errors_total_++;
  last_scrape_failed_ = failed;
  log_outcomes(r);

  scrape::add_scrape_metrics(r, r.sink);
  add_exporter_metrics(r, r.sink);
  if (opts.spool && opts.spool->failed()) spool_error = opts.spool->error();
  // (No file because none is wanted, spool_keep_free = -1: nothing to say.)
  if (spool_error != logged_spool_error_ && (opts.spool || !spool_error.empty())) {
    pgx::log(spool_error.empty() ? pgx::LogLevel::kLog : pgx::LogLevel::kWarning,
             spool_error.empty() ? std::string("scrapes are written to temporary files again")
                                 : "scrape kept in memory: " + spool_error);
    logged_spool_error_ = spool_error;
  }
  std::shared_ptr<spool::File> spool = std::move(opts.spool);
  // A small scrape wrote nothing to its file: close it now.
  if (spool && spool->size() == 0) spool.reset();
  auto body = std::make_shared<const http::Body>(r.sink.take_pieces(), std::move(spool));
  const bool complete = r.complete();
  cached_at_ = pgx::monotonic_seconds();
  cached_body_.reset();
  if (guc::cache_ttl_ms > 0) {
    cached_body_ = body;
    cached_budget_ = budget;
    cached_complete_ = complete;
  }
  publish(r);

  http::Response resp;
  resp.content_type = metrics::kExpositionContentType;
  resp.exposition = true;
  resp.body = body;
  std::vector<Waiter> later;
  const double now = pgx::monotonic_seconds();
  for (const Waiter& w : waiters_) {
    if (complete || w.budget <= budget) {
      server_.resolve(w.ticket, resp, now);
    } else {
      later.push_back(w);
    }
  }
  waiters_ = std::move(later);

  // A large scrape frees tens of MB of small blocks that glibc would keep
  // for the life of the worker: hand them back now, and the body once the
  // last connection has sent it (see loop_once).
  // (A small scrape leaves little to hand back: not worth the heap walk.)
  constexpr uint64_t kTrimAfterBytes = 4 << 20;
  if (body->size() >= kTrimAfterBytes) {
    malloc_trim(0);
    sent_body_ = body;
    trim_when_sent_ = true;
  }
}

void Exporter::pump(const scrape::Result& so_far) noexcept {
  try {
    wait_serving(so_far, 0);
  } catch (const std::exception& e) {
    pgx::log(pgx::LogLevel::kDebug, std::string("answering during a scrape: ") + e.what());
  } catch (...) {
  }
}

void Exporter::wait_serving(const scrape::Result& so_far, long timeout_ms) {
  struct Running {
    const scrape::Result** slot;
    ~Running() { *slot = nullptr; }
  } running{&running_};
  running_ = &so_far;
  rebuild_wait_set();
  for (const pgx::ReadyEvent& ev : wait_set_.wait(timeout_ms)) {
    if (ev.fd >= 0) {
      server_.on_ready(ev.fd, ev.readable, ev.writable, pgx::monotonic_seconds());
    } else if (timeout_ms > 0) {
      // The latch: another worker's answer, or a signal (a reload waits
      // for the main loop; a cancel or SIGTERM is taken now).
      pgx::reset_latch_and_check_interrupts();
    }
  }
  server_.on_timeout(pgx::monotonic_seconds());
}

void Exporter::on_exit() {
  shared::update(
      [](shared::Status* st, const void*) {
        st->worker_pid = 0;
        st->listening = false;
        st->custom.main_latch = nullptr;
      },
      nullptr);
}

// During a scrape, /health is answered from that scrape's probe (it began
// moments ago); otherwise by a probe of its own.
http::Response Exporter::health(const std::string& want_role) {
  if (running_ != nullptr) return health_response(*running_, want_role);
  scrape::Options opts;
  opts.budget_seconds = guc::statement_timeout_ms / 1000.0;
  opts.statement_timeout_ms = guc::statement_timeout_ms;
  opts.own_transaction = true;
  opts.database = database_;
  opts.sql_refused = identity_.refused();
  return health_response(scrape::run(opts), want_role);
}

http::Response Exporter::health_response(const scrape::Result& r, const std::string& want_role) const {
  const char* role = r.in_recovery ? "standby" : "primary";
  bool ok = r.up && (want_role.empty() || want_role == role);
  std::string body = std::string("{\"status\":\"") + (ok ? "ok" : "unavailable") + "\",\"database\":\"" +
                     (r.up ? "up" : "down") + "\"";
  if (r.up) body += std::string(",\"role\":\"") + role + "\"";
  body += "}\n";
  return text_response(ok ? 200 : 503, body, "application/json");
}

void Exporter::log_outcomes(const scrape::Result& r) {
  // Each distinct failure is logged once at WARNING; repeats go to DEBUG1.
  if (r.error != logged_scrape_error_) {
    if (!r.error.empty()) {
      pgx::log(pgx::LogLevel::kWarning, "scrape failed: " + r.error);
    } else {
      pgx::log(pgx::LogLevel::kLog, "scrape works again");
    }
    logged_scrape_error_ = r.error;
  }
  for (const auto& o : r.outcomes) {
    if (!o.ran) continue;
    std::string& last = logged_error_[o.name];
    if (o.success) {
      if (!last.empty())
        pgx::log(pgx::LogLevel::kLog, std::string("collector \"") + o.name + "\" works again");
      last.clear();
    } else if (o.error != last) {
      pgx::log(pgx::LogLevel::kWarning, std::string("collector \"") + o.name + "\" failed: " + o.error +
                                            " (logged again only if the error changes)");
      last = o.error;
    } else {
      pgx::log(pgx::LogLevel::kDebug, std::string("collector \"") + o.name + "\" failed: " + o.error);
    }
  }
}

void Exporter::add_exporter_metrics(const scrape::Result& r, metrics::Sink& out) const {
  out.gauge("pg_exporter_build_info", "pg_exporter build information; the value is always 1.")
      .add({{"version", kVersion}}, 1);
  out.counter("pg_exporter_scrapes_total",
              "Scrapes of /metrics that ran the collectors (not served from cache).")
      .add(static_cast<double>(scrapes_total_));
  out.counter("pg_exporter_scrape_errors_total",
              "Scrapes in which the database was unreachable or at least one collector failed.")
      .add(static_cast<double>(scrape_errors_total_));
  out.gauge("pg_exporter_last_scrape_error",
            "Whether the last scrape had an error: database unreachable or a collector failed (1 = yes).")
      .add(last_scrape_failed_ ? 1 : 0);
  out.gauge("pg_exporter_last_scrape_duration_seconds",
            "Duration of the last scrape that ran the collectors.")
      .add(r.duration);
  const std::shared_ptr<spool::File>& spool = r.sink.spool();
  out.gauge("pg_exporter_last_scrape_spooled_bytes",
            "Bytes of the last scrape written to a temporary file instead of kept in memory: large "
            "families' samples, encoded (about a tenth of their text), and large label tables; 0 for a "
            "small scrape.")
      .add(spool ? static_cast<double>(spool->size()) : 0.0);
  out.counter("pg_exporter_catalog_reads_total",
              "Whole reads of pg_class and pg_index for the per-table collectors. A scrape reuses the last "
              "read until a relation, index or schema is created, dropped or renamed; other changes re-read "
              "only their rows (pg_exporter_catalog_refreshes_total).")
      .add(static_cast<double>(kept_->catalog->reads));
  out.counter("pg_exporter_catalog_refreshes_total",
              "Reads of only the pg_class rows that changed since the last read (VACUUM, ANALYZE, ALTER "
              "TABLE SET, TRUNCATE and other rewrites), as PostgreSQL's invalidations named them.")
      .add(static_cast<double>(kept_->catalog->refreshes));
  metrics::Family failures = out.counter("pg_exporter_collector_failures_total",
                                         "Scrapes in which the collector failed or was skipped.");
  for (const auto& o : r.outcomes) {
    auto it = collector_failures_.find(o.name);
    failures.add({{"collector", o.name}},
                 it == collector_failures_.end() ? 0.0 : static_cast<double>(it->second));
  }
  metrics::Family quarantined = out.gauge(
      "pg_exporter_collector_quarantined",
      "Custom metrics not run because they hung past their hard deadline, stopped the worker or "
      "timed out three scrapes in a row (1 = quarantined); writing the definition again retries it.");
  for (const Quarantine::Entry& e : Quarantine::published()) quarantined.add({{"collector", e.name}}, 1);
  const http::Server::Stats& st = server_.stats();
  metrics::Family responses =
      out.counter("pg_exporter_http_responses_total", "HTTP responses sent, by status code.");
  for (const auto& [code, n] : st.responses_by_status) {
    responses.add({{"code", std::to_string(code)}}, static_cast<double>(n));
  }
  out.counter("pg_exporter_http_connections_total", "HTTP connections accepted.")
      .add(static_cast<double>(st.accepted));
  out.counter("pg_exporter_http_connections_rejected_total",
              "HTTP connections closed at once for lack of file descriptors.")
      .add(static_cast<double>(st.rejected));
  out.counter("pg_exporter_http_timeouts_total",
              "HTTP connections closed because the client was too slow or idle.")
      .add(static_cast<double>(st.timeouts));
  out.counter("pg_exporter_http_connections_evicted_total",
              "HTTP connections closed to give their slot to a new one (idle, slow to send their request, or "
              "slow to read the response) when every slot was taken.")
      .add(static_cast<double>(st.evicted));
  metrics::Family refused =
      out.counter("pg_exporter_http_connections_refused_total",
                  "HTTP connections refused at once, by reason: busy (every slot taken by "
                  "active requests: a quick 503), network (pg_exporter.allowed_networks).");
  refused.add({{"reason", "busy"}}, static_cast<double>(st.refused_busy));
  refused.add({{"reason", "network"}}, static_cast<double>(st.refused_network));
  out.counter(
         "pg_exporter_http_tls_handshake_failures_total",
         "TLS connections that failed before a request: bad handshake, refused client certificate, plain "
         "HTTP on the TLS port.")
      .add(static_cast<double>(st.tls_handshake_failures));
  out.counter(
         "pg_exporter_http_auth_failures_total",
         "Requests refused by basic authentication (no, unknown or wrong credentials, or too many checks).")
      .add(static_cast<double>(st.auth_failures));
  out.counter("pg_exporter_http_sent_bytes_total", "Response body bytes sent, after compression.")
      .add(static_cast<double>(st.bytes_sent));
  out.gauge("pg_exporter_http_max_clients",
            "Connections served at once: pg_exporter.max_clients, capped by the file descriptor budget.")
      .add(static_cast<double>(max_clients_allowed()));
  out.gauge(
         "pg_exporter_web_config_last_reload_successful",
         "Whether the last read of pg_exporter.web_config_file succeeded (1) or was refused (0, the previous "
         "configuration stays).")
      .add(web_config_ok_ ? 1 : 0);
  out.gauge("pg_exporter_http_tls_enabled", "Whether the endpoint serves TLS (1) or plain HTTP (0).")
      .add(server_.tls() ? 1 : 0);
}

void Exporter::publish(const scrape::Result& r) const {
  struct Args {
    const scrape::Result* r;
    uint64_t scrapes, errors;
    double now;
  } args{&r, scrapes_total_, scrape_errors_total_, pgx::now_seconds()};
  shared::update(
      [](shared::Status* st, const void* p) {
        const auto* a = static_cast<const Args*>(p);
        st->scrapes_total = a->scrapes;
        st->scrape_errors_total = a->errors;
        st->last_scrape_time = a->now;
        st->last_scrape_duration = a->r->duration;
        // Every outcome fits (kMaxCollectors counts every collector and every
        // custom metric a scrape may run).
        int n = 0;
        for (const auto& o : a->r->outcomes) {
          if (n >= shared::kMaxCollectors) break;
          shared::CollectorStatus& cs = st->collectors[n++];
          shared::set_text(cs.name, sizeof cs.name, o.name);
          cs.ran = o.ran;
          cs.success = o.success;
          cs.duration_seconds = o.duration;
          cs.last_scrape_time = a->now;
          shared::set_text(cs.last_error, sizeof cs.last_error, o.error);
        }
        st->ncollectors = n;
      },
      &args);
}

void Exporter::publish_listen_state() const {
  struct Args {
    bool listening;
    int port;
    const char* error;
  } args{server_.listening(), server_.bound_port(), listen_error_.c_str()};
  shared::update(
      [](shared::Status* st, const void* p) {
        const auto* a = static_cast<const Args*>(p);
        st->listening = a->listening;
        st->listen_port = a->port;
        shared::set_text(st->listen_error, sizeof st->listen_error, a->error);
      },
      &args);
}

}  // namespace worker
