#include "scrape/scrape.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "pg/backend.h"
#include "pg/session.h"
#include "scrape/remote.h"

namespace scrape {

namespace {

metrics::Family up_family(metrics::Sink& out) {
  return out.gauge("pg_up", "Whether the last scrape could query the database (1 = yes).");
}
metrics::Family duration_family(metrics::Sink& out) {
  return out.gauge("pg_exporter_collector_duration_seconds",
                   "Time the collector took in the last scrape, in seconds.");
}
metrics::Family success_family(metrics::Sink& out) {
  return out.gauge("pg_exporter_collector_success",
                   "Whether the collector succeeded in the last scrape (1 = yes).");
}
// postgres_exporter's names for the same two, so its dashboards and alerts work.
metrics::Family compat_duration_family(metrics::Sink& out) {
  return out.gauge("pg_scrape_collector_duration_seconds",
                   "Same as pg_exporter_collector_duration_seconds (postgres_exporter's name).");
}
metrics::Family compat_success_family(metrics::Sink& out) {
  return out.gauge("pg_scrape_collector_success",
                   "Same as pg_exporter_collector_success (postgres_exporter's name).");
}

constexpr const char* kProbe =
    "SELECT current_setting('server_version_num')::int AS version, pg_is_in_recovery() AS in_recovery, "
    "current_database() AS datname, "
    "coalesce(current_setting('pg_exporter.relations_include', true), '') AS relations_include, "
    "coalesce(current_setting('pg_exporter.relations_exclude', true), '') AS relations_exclude, "
    "pg_size_bytes(coalesce(current_setting('pg_exporter.relations_min_size', true), '0')) AS "
    "relations_min_size, "
    "coalesce(current_setting('pg_exporter.relations_limit', true), '0')::int8 AS relations_limit";

// Runs fn in a subtransaction; returns "" or the error text. Never throws
// anything but what rollback cannot contain. `contained`: rolled back even
// when fn succeeds, so nothing it did outlives it.
template <typename Fn>
std::string in_subtransaction(int timeout_ms, bool contained, Fn&& fn) {
  try {
    pgx::begin_subtransaction();
  } catch (const std::exception& e) {
    return e.what();
  }
  try {
    pgx::arm_statement_timeout(timeout_ms);
    fn();
    pgx::disarm_statement_timeout();
    if (contained) {
      pgx::rollback_subtransaction();
    } else {
      pgx::release_subtransaction();
    }
    return "";
  } catch (const std::exception& e) {
    pgx::disarm_statement_timeout();
    pgx::rollback_subtransaction();
    return e.what()[0] ? e.what() : "unknown error";
  } catch (...) {
    pgx::disarm_statement_timeout();
    pgx::rollback_subtransaction();
    return "unknown non-standard exception";
  }
}

// Records an outcome skipped for lack of time; false when there is time.
bool skipped_for_budget(const Options& opts, int remaining, Outcome& o, Result& res) {
  if (opts.budget_seconds <= 0 || remaining > 0) return false;
  o.error = "skipped: scrape time budget exhausted";
  o.short_of_time = true;
  res.outcomes.push_back(std::move(o));
  return true;
}

// Records an outcome that ran: what it wrote joins the scrape unless it
// failed, and a family that clashes with the scrape's fails it instead.
void finish(Outcome& o, metrics::Sink&& local, bool exclusive_families, Result& res) {
  if (o.error.empty()) {
    try {
      if (exclusive_families) {
        res.sink.absorb_new(std::move(local));
      } else {
        res.sink.absorb(std::move(local));
      }
    } catch (const std::exception& e) {
      o.error = e.what();
    }
  }
  o.success = o.error.empty();
  res.outcomes.push_back(std::move(o));
}

// One part of a planned collector: isolated like a collector of its own. Its
// own timeout (a custom metric's) replaces the scrape's statement timeout;
// either is cut to what is left of the budget. (The SQL function arms no
// timeout of its own, but a part's is part of its definition.)
void run_part(const Options& opts, const collectors::Collector& c, const collectors::Part& part,
              const collectors::Context& ctx, int budget_left_ms, Result& res) {
  Outcome o;
  o.collector = &c;
  o.name = std::string(c.name) + ":" + part.name;
  if (skipped_for_budget(opts, budget_left_ms, o, res)) return;
  if (opts.part_guard != nullptr) {
    o.error = opts.part_guard->refuse(o.name, part);
    if (!o.error.empty()) {
      res.outcomes.push_back(std::move(o));
      return;
    }
  }
  const int own = part.timeout_ms > 0 ? part.timeout_ms : opts.statement_timeout_ms;
  const bool cut = budget_left_ms > 0 && (own <= 0 || budget_left_ms < own);
  const int timeout = cut ? budget_left_ms : own;
  metrics::Sink local(opts.spool);
  const double t0 = pgx::monotonic_seconds();
  o.ran = true;
  if (opts.part_guard != nullptr) opts.part_guard->started(o.name, part);
  const bool hard = opts.hard_deadline_grace_ms > 0 && timeout > 0;
  o.error = in_subtransaction(timeout, part.contained, [&] {
    if (hard) pgx::arm_hard_deadline(timeout + opts.hard_deadline_grace_ms);
    try {
      part.collect(ctx, local);
    } catch (...) {
      if (hard) pgx::disarm_hard_deadline();
      throw;
    }
    if (hard) pgx::disarm_hard_deadline();
  });
  o.duration = pgx::monotonic_seconds() - t0;
  o.short_of_time = cut && !o.error.empty();
  if (opts.part_guard != nullptr) opts.part_guard->finished(o.name, part, o, timeout);
  finish(o, std::move(local), part.exclusive_families, res);
}

// A planned collector run by another process: its outcomes and families
// join this scrape.
void run_remote(const Options& opts, const collectors::Collector& c, int budget_left_ms, Outcome& o,
                Result& res) {
  const double t0 = pgx::monotonic_seconds();
  o.ran = true;
  RemoteResult rr;
  try {
    rr = opts.remote(c, budget_left_ms, res);
  } catch (const std::exception& e) {
    rr.error = e.what();
  }
  o.duration = pgx::monotonic_seconds() - t0;
  o.error = rr.error;
  o.success = o.error.empty();
  // A body without the custom metrics for lack of time is not complete: it
  // must not be served from the cache to a client with a longer budget.
  o.short_of_time = rr.short_of_time;
  if (o.success && !rr.outcomes.empty()) {
    // The other side's own outcome for the collector (its plan) stands for it.
    o.success = rr.outcomes.front().success;
    o.error = rr.outcomes.front().error;
    rr.outcomes.erase(rr.outcomes.begin());
  }
  res.outcomes.push_back(std::move(o));
  for (Outcome& part : rr.outcomes) res.outcomes.push_back(std::move(part));
  res.sink.append_rendered(std::move(rr.rendered));
}

}  // namespace

namespace {
Result run_unguarded(const Options& opts);
}

Result run(const Options& opts) {
  try {
    return run_unguarded(opts);
  } catch (...) {
    // Only something like bad_alloc gets here; never leave the worker's
    // transaction open behind it.
    if (opts.own_transaction && pgx::in_transaction()) pgx::abort_transaction();
    throw;
  }
}

namespace {
Result run_unguarded(const Options& opts) {
  Result res;
  res.sink = metrics::Sink(opts.spool);
  const double start = pgx::monotonic_seconds();
  // What is left of the budget (0 when there is none).
  auto budget_left_ms = [&]() -> int {
    if (opts.budget_seconds <= 0) return 0;
    double left = (opts.budget_seconds - (pgx::monotonic_seconds() - start)) * 1000.0;
    return left < 1 ? 0 : static_cast<int>(left);
  };
  // A collector's statement timeout: the scrape's, cut to the budget left.
  auto remaining_ms = [&]() -> int {
    if (opts.budget_seconds <= 0) return opts.statement_timeout_ms;
    int ms = budget_left_ms();
    return opts.statement_timeout_ms > 0 && opts.statement_timeout_ms < ms ? opts.statement_timeout_ms : ms;
  };
  // Armed only where the scrape arms timeouts (the worker, not a caller's session).
  auto armed = [&](int ms) { return opts.statement_timeout_ms > 0 ? ms : 0; };
  auto between = [&] {
    if (opts.between) opts.between(res);
  };

  bool in_txn = false;
  if (!opts.sql_refused.empty()) {
    res.error = opts.sql_refused;
  } else if (opts.own_transaction) {
    try {
      pgx::begin_transaction("pg_exporter: collecting metrics");
      in_txn = true;
    } catch (const std::exception& e) {
      res.error = std::string("could not start a transaction: ") + e.what();
    }
  } else {
    in_txn = true;
  }

  // Taken up front (declared by add_scrape_metrics) so that no user-defined
  // family can take these names.
  for (const char* name : {"pg_up", "pg_exporter_collector_duration_seconds", "pg_exporter_collector_success",
                           "pg_scrape_collector_duration_seconds", "pg_scrape_collector_success"})
    res.sink.reserve(name);
  for (const std::string& name : opts.reserved_families) res.sink.reserve(name);

  collectors::Context ctx;
  ctx.database = opts.database;
  ctx.superuser_owners_allowed = opts.superuser_owners_allowed;
  ctx.in_caller_session = !opts.own_transaction;
  if (in_txn) {
    // The probe reads no relation and takes no lock: the scrape's budget
    // bounds it, not the collectors' statement timeout, so that pg_up says
    // whether the database answers even under a statement timeout too short
    // for a collector.
    const int probe_ms = opts.budget_seconds > 0 ? std::max(1, budget_left_ms()) : remaining_ms();
    std::string err = in_subtransaction(armed(probe_ms), false, [&] {
      pgx::ResultSet rs = pgx::query(kProbe);
      if (rs.rows() != 1) throw std::runtime_error("probe query returned no row");
      ctx.server_version = static_cast<int>(rs.number(0, 0).value_or(0));
      ctx.in_recovery = rs.number(0, 1).value_or(0) != 0;
      ctx.database = std::string(rs.text(0, 2));
      ctx.relations.include = std::string(rs.text(0, rs.require("relations_include")));
      ctx.relations.exclude = std::string(rs.text(0, rs.require("relations_exclude")));
      ctx.relations.min_bytes =
          static_cast<int64_t>(rs.number(0, rs.require("relations_min_size")).value_or(0));
      ctx.relations.limit = static_cast<int64_t>(rs.number(0, rs.require("relations_limit")).value_or(0));
    });
    if (err.empty()) {
      res.up = true;
      if (opts.kept) {
        // After the probe: its transaction has taken in the invalidations.
        opts.kept->refresh(pgx::take_catalog_changes(), pgx::config_generation());
        opts.kept->size_ttl = std::chrono::milliseconds(opts.size_ttl_ms);
        opts.kept->expire_sizes();
        ctx.kept = opts.kept;
        ctx.catalog = opts.kept->catalog;
        ctx.files = opts.kept->files;
      }
    } else if (res.error.empty()) {
      res.error = "database did not answer: " + err;
    }
  }
  res.server_version = ctx.server_version;
  res.in_recovery = ctx.in_recovery;

  for (const collectors::Collector* c : opts.collectors) {
    between();
    Outcome o;
    o.collector = c;
    o.name = c->name;
    if (c->needs_sql && !res.up) {
      o.error = "skipped: database unavailable";
      res.outcomes.push_back(std::move(o));
      continue;
    }
    if (c->needs_sql && !collectors::supports(*c, ctx.server_version)) {
      o.error = "skipped: not supported on this server version";
      o.success = true;  // nothing to collect is not a failure
      res.outcomes.push_back(std::move(o));
      continue;
    }
    const int timeout = remaining_ms();
    if (skipped_for_budget(opts, timeout, o, res)) continue;
    if (c->plan != nullptr && opts.remote) {
      // Nothing to plan (or no way to tell): not worth asking another process.
      bool any = true;
      if (c->has_parts != nullptr) {
        const double t0 = pgx::monotonic_seconds();
        std::string err = in_subtransaction(armed(timeout), false, [&] { any = c->has_parts(ctx); });
        if (!err.empty()) any = true;
        if (!any) {
          o.ran = true;
          o.success = true;
          o.duration = pgx::monotonic_seconds() - t0;
          res.outcomes.push_back(std::move(o));
          continue;
        }
      }
      // Asking may have spent what was left: the other side takes a budget
      // of 0 for none at all.
      const int left = budget_left_ms();
      if (skipped_for_budget(opts, left, o, res)) continue;
      run_remote(opts, *c, left, o, res);
      continue;
    }
    const double t0 = pgx::monotonic_seconds();
    metrics::Sink local(opts.spool);
    o.ran = true;
    std::vector<collectors::Part> parts;
    if (c->plan != nullptr) {
      o.error = in_subtransaction(armed(timeout), false, [&] { parts = c->plan(ctx); });
    } else if (c->needs_sql) {
      o.error = in_subtransaction(armed(timeout), false, [&] { c->collect(ctx, local); });
    } else {
      try {
        c->collect(ctx, local);
      } catch (const std::exception& e) {
        o.error = e.what();
      }
    }
    o.duration = pgx::monotonic_seconds() - t0;
    o.short_of_time = timeout < opts.statement_timeout_ms && !o.error.empty();
    finish(o, std::move(local), false, res);
    for (const collectors::Part& part : parts) {
      between();
      run_part(opts, *c, part, ctx, budget_left_ms(), res);
    }
  }

  if (opts.own_transaction && in_txn) {
    try {
      pgx::commit_transaction();
    } catch (const std::exception& e) {
      pgx::abort_transaction();
      if (res.error.empty()) res.error = std::string("commit failed: ") + e.what();
    }
  }
  res.duration = pgx::monotonic_seconds() - start;
  return res;
}
}  // namespace

bool Result::complete() const {
  for (const Outcome& o : outcomes) {
    if (o.short_of_time) return false;
  }
  return true;
}

void add_scrape_metrics(const Result& r, metrics::Sink& out) {
  up_family(out).add(r.up ? 1 : 0);
  metrics::Family dur = duration_family(out);
  metrics::Family ok = success_family(out);
  metrics::Family compat_dur = compat_duration_family(out);
  metrics::Family compat_ok = compat_success_family(out);
  for (const Outcome& o : r.outcomes) {
    if (!o.ran && o.success) continue;  // unsupported on this version: no series at all
    dur.add({{"collector", o.name}}, o.duration);
    ok.add({{"collector", o.name}}, o.success ? 1 : 0);
    compat_dur.add({{"collector", o.name}}, o.duration);
    compat_ok.add({{"collector", o.name}}, o.success ? 1 : 0);
  }
}

}  // namespace scrape
