#include "worker/quarantine.h"

#include <cstring>

#include "pg/backend.h"
#include "pg/session.h"
#include "worker/shared_state.h"

namespace worker {

namespace {

// The part running now, for the exit hook (no C++ object: it runs in proc_exit).
char running_name[shared::kNameBytes] = "";
char running_version[32] = "";

void on_exit() {
  struct Args {
    bool deadline;
    double now;
  } args{pgx::hard_deadline_passed(), pgx::now_seconds()};
  void* main_latch = nullptr;
  shared::update(
      [](shared::Status* st, const void* p) {
        const auto* a = static_cast<const Args*>(p);
        // The main worker's request is answered: no worker to run it now.
        st->custom.custom_latch = nullptr;
        st->custom.custom_pid = 0;
        if (st->custom.answered < st->custom.requested) {
          st->custom.answered = st->custom.requested;
          st->custom.stopped = true;
          shared::set_text(
              st->custom.stop_error, sizeof st->custom.stop_error,
              running_name[0] == '\0'
                  ? "the custom metrics worker stopped"
                  : "the custom metrics worker stopped while it ran a definition, now quarantined");
        }
        if (running_name[0] == '\0') return;
        int k = 0;
        while (k < st->nquarantined && std::strcmp(st->quarantined[k].name, running_name) != 0) k++;
        if (k == st->nquarantined) {
          if (k == collectors::kMaxCustomMetrics) return;
          st->nquarantined++;
        }
        shared::Quarantined& q = st->quarantined[k];
        shared::set_text(q.name, sizeof q.name, running_name);
        shared::set_text(q.version, sizeof q.version, running_version);
        shared::set_text(q.why, sizeof q.why,
                         a->deadline
                             ? "it ran past its hard deadline and the worker was stopped"
                             : "the worker stopped while it ran (it ended its own backend, or a signal)");
        q.since = a->now;
      },
      &args);
  shared::view([](const shared::Status* st, void* out) { *static_cast<void**>(out) = st->custom.main_latch; },
               &main_latch);
  shared::wake(main_latch);
  if (running_name[0] != '\0')
    pgx::log(pgx::LogLevel::kWarning,
             std::string(running_name) + " is quarantined: " +
                 (args.deadline ? "it ran past its hard deadline; stopping the worker"
                                : "the worker stopped while it ran"));
}

std::string describe(const Quarantine::Entry& e) {
  return "quarantined: " + e.why + "; write its definition again to run it";
}

}  // namespace

std::vector<Quarantine::Entry> Quarantine::published() {
  std::vector<Entry> out;
  shared::view(
      [](const shared::Status* st, void* p) {
        auto* list = static_cast<std::vector<Entry>*>(p);
        try {
          for (int k = 0; k < st->nquarantined; k++) {
            const shared::Quarantined& q = st->quarantined[k];
            list->push_back({q.name, q.version, q.why, q.since});
          }
        } catch (...) {
          // Out of memory: fewer entries this scrape.
        }
      },
      &out);
  return out;
}

void Quarantine::start() {
  entries_ = published();
  for (const Entry& e : entries_) pgx::log(pgx::LogLevel::kLog, e.name + " stays " + describe(e));
  pgx::at_worker_exit(on_exit);
}

std::string Quarantine::refuse(const std::string& name, const collectors::Part& part) {
  for (size_t k = 0; k < entries_.size(); k++) {
    if (entries_[k].name != name) continue;
    if (entries_[k].version == part.version) return describe(entries_[k]);
    pgx::log(pgx::LogLevel::kLog, name + " was written again: out of quarantine");
    entries_.erase(entries_.begin() + static_cast<long>(k));
    publish();
    return "";
  }
  return "";
}

void Quarantine::started(const std::string& name, const collectors::Part& part) noexcept {
  std::strncpy(running_name, name.c_str(), sizeof running_name - 1);
  std::strncpy(running_version, part.version.c_str(), sizeof running_version - 1);
}

void Quarantine::finished(const std::string& name, const collectors::Part& part, const scrape::Outcome& o,
                          int timeout_ms) noexcept {
  running_name[0] = '\0';
  try {
    auto& [version, count] = overruns_[name];
    if (version != part.version) count = 0;
    version = part.version;
    // A timeout cut to the scrape's budget (a client's short
    // X-Prometheus-Scrape-Timeout-Seconds) is not the definition's overrun.
    const bool overran =
        !o.error.empty() && !o.short_of_time && timeout_ms > 0 && o.duration * 1000.0 >= 0.95 * timeout_ms;
    count = overran ? count + 1 : 0;
    if (count >= kMaxOverruns) {
      count = 0;
      add(name, part.version, "it timed out in " + std::to_string(kMaxOverruns) + " scrapes in a row");
    }
  } catch (...) {
    // Out of memory: the next scrape counts again.
  }
}

void Quarantine::prune(const scrape::Result& r) {
  bool listed = false;
  for (const scrape::Outcome& o : r.outcomes) listed |= o.name == "custom" && o.ran && o.success;
  if (!listed) return;
  size_t before = entries_.size();
  for (size_t k = entries_.size(); k-- > 0;) {
    bool seen = false;
    for (const scrape::Outcome& o : r.outcomes) seen |= o.name == entries_[k].name;
    if (!seen) entries_.erase(entries_.begin() + static_cast<long>(k));
  }
  if (entries_.size() != before) publish();
}

void Quarantine::add(const std::string& name, const std::string& version, const std::string& why) {
  for (Entry& e : entries_) {
    if (e.name == name) {
      e = {name, version, why, pgx::now_seconds()};
      publish();
      return;
    }
  }
  if (entries_.size() >= static_cast<size_t>(collectors::kMaxCustomMetrics)) entries_.erase(entries_.begin());
  entries_.push_back({name, version, why, pgx::now_seconds()});
  pgx::log(pgx::LogLevel::kWarning, name + " is quarantined: " + why);
  publish();
}

void Quarantine::publish() const {
  shared::update(
      [](shared::Status* st, const void* p) {
        const auto* list = static_cast<const std::vector<Entry>*>(p);
        int n = 0;
        for (const Entry& e : *list) {
          if (n == collectors::kMaxCustomMetrics) break;
          shared::Quarantined& q = st->quarantined[n++];
          shared::set_text(q.name, sizeof q.name, e.name);
          shared::set_text(q.version, sizeof q.version, e.version);
          shared::set_text(q.why, sizeof q.why, e.why);
          q.since = e.since;
        }
        st->nquarantined = n;
      },
      &entries_);
}

}  // namespace worker
