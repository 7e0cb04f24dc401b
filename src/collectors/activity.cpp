// Connections per database and state, postgres_exporter's pg_stat_activity
// family. Every (database, state) pair is exported, zero when empty, because
// dashboards and alerts expect the series to exist (a series that vanishes
// reads as "no data", not 0). Only client backends count (no walsenders,
// parallel workers or this exporter). A transaction that began after this
// scrape's transaction would have a negative age: it is clamped to 0.
#include <map>
#include <string>
#include <utility>

#include "collectors/collector.h"

namespace collectors {

namespace {

// Every state of pg_stat_activity, in byte order.
constexpr const char* kStates[] = {"active",
                                   "disabled",
                                   "fastpath function call",
                                   "idle",
                                   "idle in transaction",
                                   "idle in transaction (aborted)"};

struct StateGroup {
  double count = 0;
  double max_tx_duration = 0;
};

void collect_activity(const Context& ctx, metrics::Sink& out) {
  const Sessions& sessions = ctx.sessions();
  std::map<std::pair<std::string, std::string>, StateGroup> groups;
  for (const Session& s : sessions.rows) {
    if (!s.client() || s.datname.empty()) continue;
    StateGroup& g = groups[{s.datname, s.state}];
    g.count++;
    if (s.xact_age && *s.xact_age > g.max_tx_duration) g.max_tx_duration = *s.xact_age;
  }
  metrics::Family count = out.gauge("pg_stat_activity_count", "Client connections by database and state.");
  metrics::Family max_tx = out.gauge("pg_stat_activity_max_tx_duration",
                                     "Age of the oldest open transaction by database and state, in seconds.");
  for (const std::string& db : sessions.databases) {
    for (const char* state : kStates) {
      auto it = groups.find({db, state});
      const StateGroup g = it == groups.end() ? StateGroup{} : it->second;
      const metrics::LabelSet labels{{"datname", db}, {"state", state}};
      count.add(labels, g.count);
      max_tx.add(labels, g.max_tx_duration);
    }
  }
}

}  // namespace

extern const Collector activity_collector = {
    "activity",
    "Client connections and oldest transaction age per database and state (pg_stat_activity).",
    true,
    true,
    0,
    0,
    &collect_activity};

}  // namespace collectors
