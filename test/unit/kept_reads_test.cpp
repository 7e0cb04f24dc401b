// What the worker keeps from one scrape for the next (collectors/kept_reads.h):
// a kept read is served without a query while its generation stands, and
// dropped as soon as the generation moves. The unit tests have no server, so
// any read that is not served from what was kept throws.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "result_rows.h"
#include "unit.h"

namespace {

using unit::result_rows;

bool throws(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::runtime_error&) {
    return true;
  }
  return false;
}

void fill_catalog(collectors::RelationCatalogCache& cache) {
  cache.indexes =
      result_rows({"indrelid", "indexrelid", "valid", "droppable"}, {{"16384", "16390", "t", "f"}});
  cache.value.emplace(
      result_rows({"oid", "relkind", "reltoastrelid", "schemaname", "relname", "toast", "dboid",
                   "relfilenode", "path", "reltuples", "reloptions"},
                  {{"16384", "r", "0", "public", "t1", "f", "5", "16384", nullptr, "3", nullptr},
                   {"16390", "i", "0", "public", "t1_pkey", "f", "5", "16390", nullptr, nullptr, nullptr}}),
      *cache.indexes);
  cache.reads++;
}

}  // namespace

TEST(kept_reads_nothing_kept_without_kept_reads) {
  collectors::Context ctx;  // the SQL function's: every read goes to the server
  CHECK(throws([&] { ctx.query_until_reload("SELECT 1"); }));
  CHECK(throws([&] { ctx.relation_catalog(); }));
}

TEST(kept_reads_served_until_the_configuration_moves) {
  auto kept = std::make_shared<collectors::KeptReads>();
  kept->refresh(7, 100);
  auto rows = std::make_shared<const pgx::ResultSet>(result_rows({"name"}, {{"work_mem"}}));
  kept->until_reload.emplace("SELECT name FROM pg_settings", rows);
  collectors::Context ctx;
  ctx.kept = kept;
  CHECK(ctx.query_until_reload("SELECT name FROM pg_settings") == rows);
  // Another statement is not served by this one's result.
  CHECK(throws([&] { ctx.query_until_reload("SELECT other FROM pg_settings"); }));
  // A catalog change leaves configuration reads alone.
  kept->refresh(8, 100);
  CHECK(ctx.query_until_reload("SELECT name FROM pg_settings") == rows);
  // A reload (or a role change) drops them.
  kept->refresh(8, 101);
  CHECK(kept->until_reload.empty());
  CHECK(throws([&] { ctx.query_until_reload("SELECT name FROM pg_settings"); }));
}

TEST(kept_reads_catalog_served_until_the_catalog_moves) {
  auto kept = std::make_shared<collectors::KeptReads>();
  kept->refresh(7, 100);
  fill_catalog(*kept->catalog);
  collectors::Context ctx;
  ctx.kept = kept;
  ctx.catalog = kept->catalog;
  // The next scrape, nothing changed: the same rows, no query.
  kept->refresh(7, 100);
  const collectors::RelationCatalog& cat = ctx.relation_catalog();
  CHECK_EQ(cat.classes.rows(), size_t{2});
  CHECK(cat.row(16390).has_value());
  CHECK_EQ(cat.index_facts.size(), size_t{1});
  // A reload does not touch it.
  kept->refresh(7, 101);
  CHECK(kept->catalog->value.has_value());
  // Any pg_class, pg_index or pg_namespace invalidation drops both reads;
  // the count of reads stays.
  kept->refresh(9, 101);
  CHECK(!kept->catalog->value.has_value());
  CHECK(!kept->catalog->indexes.has_value());
  CHECK_EQ(kept->catalog->reads, uint64_t{1});
  CHECK(throws([&] { ctx.relation_catalog(); }));
}
