// What the worker keeps from one scrape for the next (collectors/kept_reads.h):
// a kept read is served without a query until a change says otherwise: the
// settings until the configuration generation moves, the catalog until a
// change of everything, or of some rows (which the next read takes in). The unit tests have no server, so
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

pgx::CatalogChanges no_change() { return {}; }
pgx::CatalogChanges all_changed() {
  pgx::CatalogChanges c;
  c.all = true;
  return c;
}
pgx::CatalogChanges changed(std::vector<uint32_t> oids) {
  pgx::CatalogChanges c;
  c.relations = std::move(oids);
  return c;
}

const std::vector<std::string> kClassColumns = {"oid",     "relkind",   "reltoastrelid", "schemaname",
                                                "relname", "toast",     "dboid",         "relfilenode",
                                                "path",    "reltuples", "reloptions"};

void fill_catalog(collectors::RelationCatalogCache& cache) {
  cache.indexes =
      result_rows({"indrelid", "indexrelid", "valid", "droppable"}, {{"16384", "16390", "t", "f"}});
  cache.value.emplace(
      result_rows(kClassColumns,
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
  kept->refresh(all_changed(), 100);
  auto rows = std::make_shared<const pgx::ResultSet>(result_rows({"name"}, {{"work_mem"}}));
  kept->until_reload.emplace("SELECT name FROM pg_settings", rows);
  collectors::Context ctx;
  ctx.kept = kept;
  CHECK(ctx.query_until_reload("SELECT name FROM pg_settings") == rows);
  // Another statement is not served by this one's result.
  CHECK(throws([&] { ctx.query_until_reload("SELECT other FROM pg_settings"); }));
  // A catalog change leaves configuration reads alone.
  kept->refresh(all_changed(), 100);
  CHECK(ctx.query_until_reload("SELECT name FROM pg_settings") == rows);
  // A reload (or a role change) drops them.
  kept->refresh(no_change(), 101);
  CHECK(kept->until_reload.empty());
  CHECK(throws([&] { ctx.query_until_reload("SELECT name FROM pg_settings"); }));
}

TEST(kept_reads_catalog_served_until_the_catalog_moves) {
  auto kept = std::make_shared<collectors::KeptReads>();
  kept->refresh(all_changed(), 100);
  fill_catalog(*kept->catalog);
  collectors::Context ctx;
  ctx.kept = kept;
  ctx.catalog = kept->catalog;
  // The next scrape, nothing changed: the same rows, no query.
  kept->refresh(no_change(), 100);
  const collectors::RelationCatalog& cat = ctx.relation_catalog();
  CHECK_EQ(cat.classes.rows(), size_t{2});
  CHECK(cat.row(16390).has_value());
  CHECK_EQ(cat.index_facts.size(), size_t{1});
  // A reload does not touch it.
  kept->refresh(no_change(), 101);
  CHECK(kept->catalog->value.has_value());
  // A change of everything (pg_index, pg_namespace, a cache reset) drops
  // both reads; the count of reads stays.
  kept->refresh(all_changed(), 101);
  CHECK(!kept->catalog->value.has_value());
  CHECK(!kept->catalog->indexes.has_value());
  CHECK_EQ(kept->catalog->reads, uint64_t{1});
  CHECK(throws([&] { ctx.relation_catalog(); }));
}

TEST(kept_reads_changed_rows_are_read_again) {
  auto kept = std::make_shared<collectors::KeptReads>();
  fill_catalog(*kept->catalog);
  collectors::Context ctx;
  ctx.kept = kept;
  ctx.catalog = kept->catalog;
  // Rows changed: kept, and marked for the next read, which then needs the
  // server (no whole read: the rows stay).
  kept->refresh(changed({16390}), 100);
  kept->refresh(changed({16384, 16390}), 100);
  CHECK(kept->catalog->value.has_value());
  CHECK(kept->catalog->stale == std::vector<uint32_t>({16384, 16390}));
  CHECK(throws([&] { ctx.relation_catalog(); }));
  CHECK(kept->catalog->stale.size() == 2);  // a failed re-read keeps them marked
  CHECK(kept->catalog->value.has_value());
  // Too many to name: read whole.
  std::vector<uint32_t> many;
  for (uint32_t k = 0; k < 5000; k++) many.push_back(20000 + k);
  kept->refresh(changed(many), 100);
  CHECK(!kept->catalog->value.has_value());
  CHECK(kept->catalog->stale.empty());
  // With nothing kept, changed rows mark nothing.
  kept->refresh(changed({16384}), 100);
  CHECK(kept->catalog->stale.empty());
}

TEST(kept_reads_catalog_update_in_place) {
  collectors::RelationCatalogCache cache;
  fill_catalog(cache);
  collectors::RelationCatalog& cat = *cache.value;
  using C = collectors::RelationCatalog;
  // ANALYZE (reltuples), ALTER TABLE SET (reloptions), a rewrite (relfilenode).
  CHECK(cat.update(result_rows(kClassColumns, {{"16384", "r", "0", "public", "t1", "f", "5", "17000", nullptr,
                                                "12345.5", "fillfactor=70"}}),
                   {16384}));
  const size_t t = *cat.row(16384);
  CHECK_EQ(cat.classes.text(t, C::tuples_c), std::string_view("12345.5"));
  CHECK_EQ(cat.classes.text(t, C::options_c), std::string_view("fillfactor=70"));
  CHECK_EQ(cat.facts[t].relfilenode, uint32_t{17000});
  CHECK(cat.classes.is_null(t, C::path_c));
  CHECK_EQ(cat.classes.text(*cat.row(16390), C::rel_c), std::string_view("t1_pkey"));
  CHECK_EQ(cat.index_facts[0].table_row, static_cast<uint32_t>(t));
  // Shorter text is written where the old was; the storage parameters gone.
  CHECK(cat.update(result_rows(kClassColumns, {{"16384", "r", "0", "public", "t1", "f", "5", "17000", nullptr,
                                                "9", nullptr}}),
                   {16384}));
  CHECK_EQ(cat.classes.text(t, C::tuples_c), std::string_view("9"));
  CHECK(cat.classes.is_null(t, C::options_c));
  // A relation asked for that is not one of these (a system catalog): nothing.
  CHECK(cat.update(result_rows(kClassColumns, {}), {1259}));
}

TEST(kept_reads_catalog_update_refuses_what_rows_cannot_take) {
  const std::vector<std::pair<const char*, std::vector<const char*>>> cases = {
      {"renamed", {"16384", "r", "0", "public", "t2", "f", "5", "16384", nullptr, "3", nullptr}},
      {"moved to another schema",
       {"16384", "r", "0", "other", "t1", "f", "5", "16384", nullptr, "3", nullptr}},
      {"given a TOAST table",
       {"16384", "r", "16999", "public", "t1", "f", "5", "16384", nullptr, "3", nullptr}},
      {"attached", {"16384", "r", "0", "public", "t1", "f", "5", "16384", nullptr, "3", nullptr, "17"}},
      {"another kind", {"16384", "m", "0", "public", "t1", "f", "5", "16384", nullptr, "3", nullptr}},
      {"created", {"16500", "r", "0", "public", "t9", "f", "5", "16500", nullptr, "3", nullptr}},
  };
  for (const auto& [what, row] : cases) {
    collectors::RelationCatalogCache cache;
    fill_catalog(cache);
    std::vector<std::string> cols = kClassColumns;
    if (row.size() > cols.size()) cols.push_back("parent");
    const uint32_t oid = static_cast<uint32_t>(std::stoul(row[0]));
    CHECK(!cache.value->update(result_rows(cols, {row}), {oid}));
    (void)what;
  }
  // Dropped: asked for, here, not read back.
  collectors::RelationCatalogCache cache;
  fill_catalog(cache);
  CHECK(!cache.value->update(result_rows(kClassColumns, {}), {16390}));
}

TEST(kept_reads_catalog_update_bounds_replaced_text) {
  collectors::RelationCatalogCache cache;
  fill_catalog(cache);
  // Longer text each time is appended; the old stays unused until a whole
  // read, which update() asks for past a quarter of the text and 64 KiB.
  bool taken = true;
  int updates = 0;
  std::string options = "fillfactor=1";
  while (taken && updates < 1000) {
    options += "0";
    taken = cache.value->update(result_rows(kClassColumns, {{"16384", "r", "0", "public", "t1", "f", "5",
                                                             "16384", nullptr, "3", options.c_str()}}),
                                {16384});
    updates++;
  }
  CHECK(!taken);
  CHECK(updates < 1000);
}

TEST(oid_cache_hash_inverts) {
  for (uint32_t oid : {0u, 1u, 1259u, 16384u, 4294967295u})
    CHECK_EQ(pgx::oid_of_cache_hash(pgx::oid_cache_hash(oid)), oid);
  uint32_t x = 12345;
  for (int k = 0; k < 100000; k++) {
    x = x * 1664525u + 1013904223u;
    CHECK_EQ(pgx::oid_of_cache_hash(pgx::oid_cache_hash(x)), x);
  }
  // murmurhash32's known value (common/hashfn.h): not the identity.
  CHECK(pgx::oid_cache_hash(1) != 1);
}

TEST(kept_reads_rendered_until_the_configuration_moves) {
  auto kept = std::make_shared<collectors::KeptReads>();
  kept->refresh(all_changed(), 100);
  collectors::Context ctx;
  ctx.kept = kept;
  int renders = 0;
  auto render = [&](metrics::Sink& out) {
    renders++;
    out.gauge("pg_settings_x", "Server Parameter: x").add(renders);
  };
  for (int scrape = 0; scrape < 3; scrape++) {
    metrics::Sink out;
    ctx.render_until_reload("settings", out, render);
    CHECK_EQ(out.sample_count(), size_t{1});
  }
  CHECK_EQ(renders, 1);
  // A reload renders again; so does a context that keeps nothing (the SQL
  // function's), every time.
  kept->refresh(no_change(), 101);
  metrics::Sink out;
  ctx.render_until_reload("settings", out, render);
  CHECK_EQ(renders, 2);
  collectors::Context bare;
  metrics::Sink out2, out3;
  bare.render_until_reload("settings", out2, render);
  bare.render_until_reload("settings", out3, render);
  CHECK_EQ(renders, 4);
  // A render that throws keeps nothing.
  auto failing = [](metrics::Sink&) { throw std::runtime_error("no database"); };
  CHECK(throws([&] { ctx.render_until_reload("other", out, failing); }));
  CHECK(kept->rendered_until_reload.count("other") == 0);
}
