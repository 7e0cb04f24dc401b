// The scrape's shared read of pg_stat_activity (collectors/sessions.h): its
// conversion, the top-N fold of client-named groups, and a collector that
// aggregates it without SQL of its own.
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "collectors/collector.h"
#include "metrics/render.h"
#include "result_rows.h"
#include "unit.h"

namespace {

using Labels = std::pair<std::string, std::string>;

std::map<Labels, double> fold(const std::map<Labels, double>& groups, size_t keep) {
  return collectors::fold_largest(
      groups, keep, Labels{"[other]", "[other]"}, [](double n) { return n; },
      [](double& into, double n) { into += n; });
}

using unit::result_rows;

const std::vector<std::string> kActivityColumns = {"datname",
                                                   "usename",
                                                   "application_name",
                                                   "backend_type",
                                                   "state",
                                                   "wait_event_type",
                                                   "wait_event",
                                                   "query_age",
                                                   "state_age",
                                                   "xact_age",
                                                   "xact_start",
                                                   "blocked",
                                                   "self",
                                                   "autovacuum_relname",
                                                   "ssl",
                                                   "ssl_version",
                                                   "ssl_cipher"};

}  // namespace

TEST(fold_largest_keeps_the_largest_and_folds_the_rest) {
  std::map<Labels, double> groups;
  for (int i = 0; i < 10; i++) groups[{"db", "app" + std::to_string(i)}] = i + 1;  // app9 largest
  auto out = fold(groups, 3);
  CHECK_EQ(out.size(), 4u);
  CHECK_EQ(out[Labels("db", "app9")], 10.0);
  CHECK_EQ(out[Labels("db", "app8")], 9.0);
  CHECK_EQ(out[Labels("db", "app7")], 8.0);
  CHECK_EQ(out[Labels("[other]", "[other]")], 28.0);  // 1 + ... + 7
  // Nothing to fold: no [other] series.
  CHECK_EQ(fold(groups, 10).size(), 10u);
  CHECK_EQ(fold(groups, 50).count(Labels("[other]", "[other]")), 0u);
}

TEST(fold_largest_breaks_ties_by_byte_order_and_merges_a_client_named_other) {
  // Equal sizes: "B" sorts before "a" in bytes (not in most collations).
  std::map<Labels, double> groups = {{{"db", "a"}, 2}, {{"db", "B"}, 2}, {{"db", "c"}, 2}};
  auto out = fold(groups, 1);
  CHECK_EQ(out.size(), 2u);
  CHECK_EQ(out.count(Labels("db", "B")), 1u);
  CHECK_EQ(out[Labels("[other]", "[other]")], 4.0);
  // The same input in another insertion order keeps the same set.
  std::map<Labels, double> again;
  again[{"db", "c"}] = 2;
  again[{"db", "a"}] = 2;
  again[{"db", "B"}] = 2;
  CHECK(fold(again, 1) == out);
  // A client calling itself "[other]" (in both labels) lands in the fold.
  groups[{"[other]", "[other]"}] = 5;
  out = fold(groups, 1);
  CHECK_EQ(out.size(), 1u);
  CHECK_EQ(out[Labels("[other]", "[other]")], 11.0);  // kept as the largest, and the others fold into it
  out = fold(groups, 2);
  CHECK_EQ(out[Labels("[other]", "[other]")], 9.0);  // itself plus a and c
  CHECK_EQ(out[Labels("db", "B")], 2.0);
}

TEST(make_sessions_reads_nulls_as_empty_and_ages_as_numbers) {
  pgx::ResultSet a =
      result_rows(kActivityColumns,
                  {{"postgres", "alice", "psql", "client backend", "active", "Lock", "relation", "12.5",
                    "-0.25", "40", "1700000000", "t", "f", nullptr, "t", "TLSv1.3", "TLS_AES_256_GCM_SHA384"},
                   {nullptr, nullptr, nullptr, "checkpointer", nullptr, "Activity", "CheckpointerMain",
                    nullptr, nullptr, nullptr, nullptr, "f", "f", nullptr, "f", nullptr, nullptr},
                   {"postgres", "postgres", "", "autovacuum worker", "active", nullptr, nullptr, "1", "1",
                    "2", "1700000100", "f", "f", "t1", "f", nullptr, nullptr}});
  pgx::ResultSet d = result_rows({"datname"}, {{"postgres"}, {"template0"}, {"template1"}});
  collectors::Sessions s = collectors::make_sessions(a, d);
  CHECK_EQ(s.rows.size(), 3u);
  CHECK(s.rows[0].client());
  CHECK(s.rows[0].blocked);
  CHECK(!s.rows[0].self);
  CHECK_EQ(*s.rows[0].query_age, 12.5);
  CHECK_EQ(*s.rows[0].state_age, 0.0);  // after the scrape's start: clamped
  CHECK_EQ(*s.rows[0].xact_start, 1700000000.0);
  CHECK(!s.rows[1].client());
  CHECK_EQ(s.rows[1].datname, "");
  CHECK_EQ(s.rows[1].state, "");
  CHECK(!s.rows[1].xact_age);
  CHECK_EQ(s.rows[2].autovacuum_relname, "t1");
  CHECK(s.rows[0].ssl);
  CHECK_EQ(s.rows[0].ssl_version, "TLSv1.3");
  CHECK(!s.rows[1].ssl);
  CHECK_EQ(s.databases.size(), 3u);
  CHECK_EQ(s.databases[1], "template0");
  // A reader that disagrees with the SQL fails loudly.
  bool threw = false;
  try {
    collectors::make_sessions(result_rows({"datname"}, {}), d);
  } catch (const std::runtime_error&) {
    threw = true;
  }
  CHECK(threw);
}

TEST(activity_collector_aggregates_the_shared_sessions_without_sql) {
  pgx::ResultSet a = result_rows(
      kActivityColumns, {{"db1", "u", "x", "client backend", "idle in transaction", "Client", "ClientRead",
                          "1", "1", "30", "1", "f", "f", nullptr, "f", nullptr, nullptr},
                         {"db1", "u", "x", "client backend", "idle in transaction", nullptr, nullptr, "1",
                          "1", "45.5", "1", "f", "f", nullptr, "f", nullptr, nullptr},
                         {"db1", "u", "x", "autovacuum worker", "active", nullptr, nullptr, "1", "1", "99",
                          "1", "f", "f", nullptr, "f", nullptr, nullptr},
                         {"db2", "u", "x", "client backend", "active", nullptr, nullptr, "1", "1", nullptr,
                          nullptr, "f", "f", nullptr, "f", nullptr, nullptr}});
  pgx::ResultSet d = result_rows({"datname"}, {{"db1"}, {"db2"}});
  collectors::Context ctx;
  ctx.sessions_cache->value = collectors::make_sessions(a, d);
  metrics::Sink sink;
  collectors::find("activity")->collect(ctx, sink);  // Context::query() would throw here
  // Every database and state, zero included: 2 databases x 6 states x 2 families.
  CHECK_EQ(sink.sample_count(), 24u);
  const std::string text = metrics::render(sink);
  CHECK(text.find("pg_stat_activity_count{datname=\"db1\",state=\"idle in transaction\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("pg_stat_activity_max_tx_duration{datname=\"db1\",state=\"idle in transaction\"} 45.5\n") !=
        std::string::npos);
  // Autovacuum is no client: db1 has no active client.
  CHECK(text.find("pg_stat_activity_count{datname=\"db1\",state=\"active\"} 0\n") != std::string::npos);
  CHECK(text.find("pg_stat_activity_count{datname=\"db2\",state=\"active\"} 1\n") != std::string::npos);
  CHECK(text.find("pg_stat_activity_max_tx_duration{datname=\"db2\",state=\"active\"} 0\n") !=
        std::string::npos);
}
