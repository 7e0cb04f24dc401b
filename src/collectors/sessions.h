// The server's sessions (pg_stat_activity) and databases, read once per scrape
// and shared by the collectors that aggregate them (activity, connections,
// locks, vacuum, ssl). The view builds a row per backend, text and all, on every
// read: with 300 connections the ten reads those collectors made were the
// largest cost of a small cluster's scrape.
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pg/result.h"

namespace collectors {

// One backend. Text is "" where the view has NULL (no real value is "": a
// database or wait event cannot be named so, and the collectors that label
// by user or application name write NULL as "" anyway).
struct Session {
  std::string datname, usename, application_name, backend_type, state, wait_event_type, wait_event;
  // Seconds since query_start, state_change and xact_start, clamped at 0 (a
  // timestamp after the scrape's transaction start would be negative).
  std::optional<double> query_age, state_age, xact_age;
  std::optional<double> xact_start;  // Unix seconds
  bool blocked = false;              // waits on a heavyweight lock another session holds
  bool self = false;                 // the session running the scrape
  // For an autovacuum worker, the relation named in its query.
  std::string autovacuum_relname;
  bool ssl = false;  // a client connection over TLS
  std::string ssl_version, ssl_cipher;

  bool client() const { return backend_type == "client backend"; }
};

struct Sessions {
  std::vector<Session> rows;
  std::vector<std::string> databases;  // every database, by name (byte order)
};

// Filled by the first collector of a scrape that needs it (Context).
struct SessionsCache {
  std::optional<Sessions> value;
};

// Builds Sessions from the two reads (throws on a missing column).
Sessions make_sessions(const pgx::ResultSet& activity, const pgx::ResultSet& databases);

// Groups labelled by client-controlled text (application or user name) keep
// the `keep` largest; the rest fold into one group whose every label is
// "[other]" (a group so named by a client merges with it). Ties are broken by
// the labels' byte order, so the kept set is stable between scrapes. Returns
// the groups by label.
template <typename Labels, typename Value, typename SizeOf, typename Merge>
std::map<Labels, Value> fold_largest(const std::map<Labels, Value>& groups, size_t keep,
                                     const Labels& other_labels, SizeOf size_of, Merge merge) {
  std::vector<const std::pair<const Labels, Value>*> order;
  order.reserve(groups.size());
  for (const auto& g : groups) order.push_back(&g);
  // `groups` is already in label order: a stable sort by size keeps it for ties.
  std::stable_sort(order.begin(), order.end(), [size_of](const auto* a, const auto* b) {
    return size_of(a->second) > size_of(b->second);
  });
  std::map<Labels, Value> out;
  for (size_t i = 0; i < order.size(); i++) {
    const Labels& labels = i < keep ? order[i]->first : other_labels;
    auto it = out.find(labels);
    if (it == out.end()) {
      out.emplace(labels, order[i]->second);
    } else {
      merge(it->second, order[i]->second);
    }
  }
  return out;
}

}  // namespace collectors
