// What the main worker and the custom metrics worker pass each other through
// files: both ways whole, and anything else refused.
#include <string>

#include "collectors/collector.h"
#include "scrape/remote.h"
#include "unit.h"

TEST(remote_request_round_trip) {
  scrape::RemoteRequest r;
  r.budget_ms = 8765;
  r.statement_timeout_ms = 5000;
  r.superuser_owners_allowed = true;
  r.taken = {"pg_up", "pg_stat_database_xact_commit", std::string("odd\nname:7\0x", 12), ""};
  scrape::RemoteRequest back;
  std::string why;
  CHECK(scrape::decode(scrape::encode(r), &back, &why));
  CHECK_EQ(back.budget_ms, 8765);
  CHECK_EQ(back.statement_timeout_ms, 5000);
  CHECK(back.superuser_owners_allowed);
  CHECK(back.taken == r.taken);
}

TEST(remote_result_round_trip) {
  const collectors::Collector* custom = collectors::find("custom");
  scrape::RemoteResult r;
  scrape::Outcome a;
  a.name = "custom";
  a.ran = true;
  a.success = true;
  a.duration = 0.001234;
  scrape::Outcome b;
  b.name = "custom:app_queue";
  b.ran = true;
  b.short_of_time = true;
  b.duration = 2.5;
  b.error = "canceling statement due to statement timeout\nsecond line";
  r.outcomes = {a, b};
  r.rendered = "# TYPE app_queue_backlog gauge\napp_queue_backlog{queue=\"mail\"} 2\n";
  scrape::RemoteResult back;
  std::string why;
  CHECK(scrape::decode(scrape::encode(r), custom, &back, &why));
  CHECK_EQ(back.outcomes.size(), 2u);
  CHECK(back.outcomes[0].collector == custom);
  CHECK(back.outcomes[0].success && back.outcomes[0].ran && !back.outcomes[0].short_of_time);
  CHECK_EQ(back.outcomes[0].duration, 0.001234);
  CHECK(!back.outcomes[1].success && back.outcomes[1].short_of_time);
  CHECK_EQ(back.outcomes[1].error, b.error);
  CHECK_EQ(back.outcomes[1].name, "custom:app_queue");
  CHECK_EQ(back.rendered, r.rendered);
  CHECK_EQ(back.error, "");
}

// Every cut and every changed byte of an answer either decodes to the same
// thing or is refused: a half-written or foreign file is never half-read.
TEST(remote_result_refuses_what_it_did_not_write) {
  scrape::RemoteResult r;
  scrape::Outcome o;
  o.name = "custom:x";
  o.ran = true;
  r.outcomes = {o};
  r.rendered = "x 1\n";
  const std::string bytes = scrape::encode(r);
  std::string why;
  for (size_t cut = 0; cut < bytes.size(); cut++) {
    scrape::RemoteResult back;
    CHECK(!scrape::decode(bytes.substr(0, cut), nullptr, &back, &why));
  }
  for (size_t i = 0; i < bytes.size(); i++) {
    for (char c : {'0', '9', ':', '\n', 'x', '\xff'}) {
      std::string bad = bytes;
      if (bad[i] == c) continue;
      bad[i] = c;
      scrape::RemoteResult back;
      if (scrape::decode(bad, nullptr, &back, &why)) {
        // A changed digit of a duration or a changed character of a text
        // still decodes: the structure held.
        CHECK_EQ(back.outcomes.size(), 1u);
      }
    }
  }
  scrape::RemoteResult back;
  CHECK(!scrape::decode(bytes + "x", nullptr, &back, &why));
  CHECK(!scrape::decode("pg_exporter remote result 1\n0:\n99999999999999999999\n", nullptr, &back, &why));
  scrape::RemoteRequest req;
  CHECK(!scrape::decode("pg_exporter remote request 1\n1\n1\n2\n0\n", &req, &why));  // allowed is 0 or 1
}
