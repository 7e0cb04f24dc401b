#include "collectors/relation_catalog.h"

#include <algorithm>
#include <utility>

#include "collectors/collector.h"
#include "collectors/versioned_sql.h"

namespace collectors {

namespace {

// " AND c.oid = ANY('{...}'::oid[])": the rows a partial re-read asks for
// (pg_class's oid index finds them).
std::string oid_filter(const std::vector<uint32_t>& oids) {
  std::string out = " AND c.oid = ANY('{";
  for (size_t k = 0; k < oids.size(); k++) {
    if (k > 0) out += ',';
    out += std::to_string(oids[k]);
  }
  return out + "}'::oid[])";
}

// The columns of relation_catalog_sql() in a result (throws on a missing one),
// and the numbers of a row.
struct ClassColumns {
  size_t oid, kind, toast_rel, schema, rel, toast, dboid, node, path, tuples, options;
  int parent;
  explicit ClassColumns(const pgx::ResultSet& c)
      : oid(c.require("oid")),
        kind(c.require("relkind")),
        toast_rel(c.require("reltoastrelid")),
        schema(c.require("schemaname")),
        rel(c.require("relname")),
        toast(c.require("toast")),
        dboid(c.require("dboid")),
        node(c.require("relfilenode")),
        path(c.require("path")),
        tuples(c.require("reltuples")),
        options(c.require("reloptions")),
        parent(c.column("parent")) {}
  RelationCatalog::Facts facts(const pgx::ResultSet& c, size_t r) const {
    auto u32 = [](std::optional<double> v) { return static_cast<uint32_t>(v.value_or(0)); };
    RelationCatalog::Facts f;
    f.oid = u32(c.number(r, oid));
    f.toast_oid = u32(c.number(r, toast_rel));
    f.relfilenode = u32(c.number(r, node));
    if (parent >= 0) f.parent = u32(c.number(r, static_cast<size_t>(parent)));
    const std::string_view k = c.text(r, kind);
    f.kind = k.size() == 1 ? k[0] : '?';
    f.toast = c.number(r, toast).value_or(0) != 0;
    return f;
  }
};

bool table_facts(const RelationCatalog::Facts& f) { return !f.toast && f.kind != 'i' && f.kind != 'I'; }

}  // namespace

std::string relation_catalog_sql(int server_version, const std::vector<uint32_t>* only) {
  // pg_stat_user_tables lists partitioned tables from PostgreSQL 14 (size 0).
  const std::string table_kinds = server_version >= 140000 ? "('r', 'm', 'p')" : "('r', 'm')";
  // The user tables, their indexes, and the TOAST tables and TOAST indexes
  // (schema pg_toast) that the tables point to. Temporary relations are left
  // out, so pg_toast is the only TOAST schema left to tell apart (by oid: a
  // regular expression on its name cost a third of the query).
  return "WITH db AS (SELECT oid, dattablespace FROM pg_database WHERE datname = current_database()) "
         "SELECT c.oid, c.relkind, c.reltoastrelid, n.nspname AS schemaname, c.relname,"
         "  c.relnamespace = 'pg_toast'::regnamespace AS toast, db.oid AS dboid, c.relfilenode,"
         "  CASE WHEN c.relkind IN ('p', 'I') THEN NULL"
         "    WHEN c.reltablespace <> 0 OR db.dattablespace <> 1663 OR c.relfilenode = 0"
         "    THEN pg_relation_filepath(c.oid) END AS path,"
         // For the tables collector's autovacuum thresholds (float8: the exact
         // float4 value, as the server computes with it).
         "  CASE WHEN c.relkind IN ('r', 'm') THEN c.reltuples::float8 END AS reltuples,"
         "  CASE WHEN c.relkind IN ('r', 'm') THEN array_to_string(c.reloptions, ',') END AS reloptions,"
         // A partition's parent, for the partitioned tables' aggregates (one
         // index lookup per partition).
         "  CASE WHEN c.relispartition AND c.relkind IN ('r', 'p')"
         "    THEN (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid LIMIT 1) END AS parent "
         "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN db "
         "WHERE c.relpersistence <> 't' AND n.nspname NOT IN ('pg_catalog', 'information_schema', "
         "'pgexporter')"
         "  AND (c.relkind IN " +
         table_kinds + " AND c.relnamespace <> 'pg_toast'::regnamespace OR c.relkind IN ('i', 't'))" +
         (only ? oid_filter(*only) : std::string());
}

const char* const kRelationIndexSql =
    "SELECT indrelid, indexrelid, indisvalid AS valid,"
    "  NOT (indisprimary OR indisunique OR indisexclusion) AS droppable "
    "FROM pg_index";

void RelationCatalog::add_classes(const pgx::ResultSet& c) {
  const ClassColumns col(c);
  const size_t base = facts.size();
  facts.resize(base + c.rows());
  if (classes.columns() == 0) {
    classes.reset(5);
    for (size_t k : {schema_c, rel_c, path_c, tuples_c, options_c}) {
      static const char* const names[] = {"schemaname", "relname", "path", "reltuples", "reloptions"};
      classes.set_column_name(k, names[k]);
    }
  }
  std::string cell;
  auto copy = [&](size_t r, size_t from, size_t to, bool wanted) {
    if (!wanted || c.is_null(r, from)) {
      classes.set_cell(to, nullptr);
    } else {
      cell.assign(c.text(r, from));
      classes.set_cell(to, cell.c_str());
    }
  };
  for (size_t r = 0; r < c.rows(); r++) {
    Facts& f = facts[base + r];
    f = col.facts(c, r);
    row_of.insert(f.oid, static_cast<uint32_t>(base + r));
    if (dboid.empty()) dboid.assign(c.text(r, col.dboid));
    const bool table = table_facts(f);
    classes.add_row();
    copy(r, col.schema, schema_c, table);
    copy(r, col.rel, rel_c, !f.toast);
    copy(r, col.path, path_c, true);
    copy(r, col.tuples, tuples_c, table);
    copy(r, col.options, options_c, table);
  }
}

bool RelationCatalog::update(const pgx::ResultSet& c, const std::vector<uint32_t>& asked) {
  const ClassColumns col(c);
  // First whether every change is one a row can take in place: the same
  // relation (kind, TOAST table, parent, names), with other files, reltuples
  // or storage parameters. A relation created, dropped, renamed or moved
  // changes what the other rows refer to or how they sort.
  std::vector<uint32_t> seen;
  struct Change {
    size_t here, r;  // row here, row of c
    uint32_t relfilenode;
  };
  std::vector<Change> rows;
  for (size_t r = 0; r < c.rows(); r++) {
    const Facts now = col.facts(c, r);
    const auto here = row(now.oid);
    if (!here) return false;
    const Facts& was = facts[*here];
    if (now.kind != was.kind || now.toast_oid != was.toast_oid || now.parent != was.parent ||
        now.toast != was.toast)
      return false;
    if (table_facts(now) && c.text(r, col.schema) != classes.text(*here, schema_c)) return false;
    if (!now.toast && c.text(r, col.rel) != classes.text(*here, rel_c)) return false;
    seen.push_back(now.oid);
    rows.push_back({*here, r, now.relfilenode});
  }
  std::sort(seen.begin(), seen.end());
  for (uint32_t oid : asked) {
    // Asked, not read back, but here: dropped (or no longer one of these).
    if (!std::binary_search(seen.begin(), seen.end(), oid) && row(oid)) return false;
  }
  for (const auto& [here, r, relfilenode] : rows) {
    facts[here].relfilenode = relfilenode;
    const bool table = table_facts(facts[here]);
    classes.replace_cell(here, path_c, c.text(r, col.path), c.is_null(r, col.path));
    classes.replace_cell(here, tuples_c, c.text(r, col.tuples), !table || c.is_null(r, col.tuples));
    classes.replace_cell(here, options_c, c.text(r, col.options), !table || c.is_null(r, col.options));
  }
  // Replaced text that did not fit where it was stays unused: past a
  // quarter of the text (and 64 KiB), a whole read is cheaper than the memory.
  return classes.slack() <= classes.text_bytes() / 4 + 65536;
}

void RelationCatalog::finish(const pgx::ResultSet& indexes) {
  const size_t indrel_c = indexes.require("indrelid"), indexrel_c = indexes.require("indexrelid"),
               valid_c = indexes.require("valid"), droppable_c = indexes.require("droppable");
  auto u32 = [](std::optional<double> v) { return static_cast<uint32_t>(v.value_or(0)); };
  index_facts.resize(indexes.rows());
  index_by_table.resize(indexes.rows());
  for (size_t r = 0; r < indexes.rows(); r++) {
    IndexFacts& f = index_facts[r];
    f.indrel = u32(indexes.number(r, indrel_c));
    f.indexrel = u32(indexes.number(r, indexrel_c));
    const auto valid = indexes.number(r, valid_c), droppable = indexes.number(r, droppable_c);
    f.valid_known = valid.has_value();
    f.valid = valid.value_or(0) != 0;
    f.droppable_known = droppable.has_value();
    f.droppable = droppable.value_or(0) != 0;
    index_by_table[r] = static_cast<uint32_t>(r);
  }
  std::stable_sort(index_by_table.begin(), index_by_table.end(),
                   [this](uint32_t a, uint32_t b) { return index_facts[a].indrel < index_facts[b].indrel; });
  for (size_t k = 0; k < index_by_table.size();) {
    const uint32_t rel = index_facts[index_by_table[k]].indrel;
    size_t end = k;
    while (end < index_by_table.size() && index_facts[index_by_table[end]].indrel == rel) end++;
    if (const uint32_t r = row_of.find(rel); r != kNoRow) {
      facts[r].index_first = static_cast<uint32_t>(k);
      facts[r].index_count = static_cast<uint32_t>(end - k);
    }
    k = end;
  }
  for (IndexFacts& f : index_facts) {
    f.index_row = row_of.find(f.indexrel);
    f.table_row = row_of.find(f.indrel);
  }
  for (Facts& f : facts) f.toast_row = row_of.find(f.toast_oid);
  for (size_t r = 0; r < facts.size(); r++) {
    if (is_table(r)) tables_by_name.push_back(static_cast<uint32_t>(r));
  }
  std::sort(tables_by_name.begin(), tables_by_name.end(), [this](uint32_t x, uint32_t y) {
    const std::string_view xs = classes.text(x, schema_c), ys = classes.text(y, schema_c);
    return xs != ys ? xs < ys : classes.text(x, rel_c) < classes.text(y, rel_c);
  });
}

std::pair<const uint32_t*, const uint32_t*> RelationCatalog::indexes_of(uint32_t rel) const {
  if (const uint32_t r = row_of.find(rel); r != kNoRow) return indexes_of_row(r);
  // Not a relation of `classes` (a system catalog): its indexes are still in pg_index.
  const uint32_t* first = index_by_table.data();
  const uint32_t* last = first + index_by_table.size();
  auto lo = std::lower_bound(first, last, rel,
                             [this](uint32_t pos, uint32_t r) { return index_facts[pos].indrel < r; });
  auto hi = std::upper_bound(lo, last, rel,
                             [this](uint32_t r, uint32_t pos) { return r < index_facts[pos].indrel; });
  return {lo, hi};
}

std::optional<size_t> RelationCatalog::row(uint32_t oid) const {
  const uint32_t r = row_of.find(oid);
  if (r == kNoRow) return std::nullopt;
  return r;
}

bool RelationCatalog::is_table(size_t r) const { return table_facts(facts[r]); }

uint32_t RelationCatalog::parent(size_t r) const { return facts[r].parent; }

uint32_t RelationCatalog::oid(size_t r) const { return facts[r].oid; }

const std::vector<pgx::AccessCounters>& Context::remember_index_counters(
    std::vector<pgx::AccessCounters>&& counters) const {
  IndexCounters& seen = *index_counters_seen;
  const size_t n = std::min(counters.size(), relation_catalog().index_facts.size());
  seen.counters = std::move(counters);
  seen.known.assign(n, true);
  return seen.counters;
}

const std::vector<pgx::AccessCounters>& Context::index_counters(
    const std::vector<uint32_t>& positions) const {
  const RelationCatalog& cat = relation_catalog();
  IndexCounters& seen = *index_counters_seen;
  const size_t n_index = cat.index_facts.size();
  if (seen.counters.size() < n_index) seen.counters.resize(n_index);
  if (seen.known.size() < n_index) seen.known.resize(n_index, false);
  std::vector<uint32_t> missing;
  for (uint32_t p : positions) {
    if (p < n_index && !seen.known[p]) missing.push_back(p);
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  if (!missing.empty()) {
    // The tables collector did not run first: the same one pass, for these.
    pgx::OidMap oids(missing.size());
    for (size_t k = 0; k < missing.size(); k++)
      oids.insert(cat.index_facts[missing[k]].indexrel, static_cast<uint32_t>(k));
    pgx::StatsRequest request(oids, missing.size(), 0, missing.size());
    for (size_t k = 0; k < missing.size(); k++) request.want_counters(static_cast<uint32_t>(k), k);
    scan_relation_stats(request);
    for (size_t k = 0; k < missing.size(); k++) {
      seen.counters[missing[k]] = request.counters[k];
      seen.known[missing[k]] = true;
    }
  }
  return seen.counters;
}

const RelationCatalog& Context::relation_catalog() const {
  if (catalog->value && !catalog->stale.empty()) {
    // Only some rows changed (autovacuum, ANALYZE, ALTER TABLE SET, a
    // rewrite): read those again. If the query fails they stay stale for
    // the next collector to ask.
    const pgx::ResultSet rows = query(relation_catalog_sql(server_version, &catalog->stale).c_str());
    if (catalog->value->update(rows, catalog->stale)) {
      catalog->refreshes++;
      catalog->stale.clear();
    } else {
      catalog->clear();
    }
  }
  if (!catalog->value) {
    // Kept apart from `value` (which refers to it): a failure between the two
    // reads leaves the first for the next collector to ask.
    if (!catalog->indexes) catalog->indexes = query(kRelationIndexSql);
    RelationCatalog built;
    query_batches(relation_catalog_sql(server_version).c_str(),
                  [&built](const pgx::ResultSet& batch) { built.add_classes(batch); });
    built.finish(*catalog->indexes);
    catalog->value.emplace(std::move(built));
    catalog->indexes.reset();  // parsed into index_facts
    catalog->reads++;
  }
  return *catalog->value;
}

}  // namespace collectors
