#include "pg/owner_query.h"

#include "pg/guard.h"
#include "pg/owner_context.h"
#include "pg/spi_copy.h"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/plancache.h"
#include "utils/syscache.h"
}

namespace pgx {

void enter_owner_context(Oid owner, OwnerContext* save) {
  if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(owner)))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("role with OID %u does not exist", owner)));
  GetUserIdAndSecContext(&save->saved_user, &save->saved_sec_context);
  save->guc_nest_level = NewGUCNestLevel();
  SetUserIdAndSecContext(
      owner, save->saved_sec_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
  // GUC_ACTION_SAVE, as a function's SET clause: undone at our nest level.
  (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                          true, 0, false);
  // GUC_ACTION_LOCAL: from 16 transaction_read_only refuses SAVE ("cannot be
  // set locally in functions"); leave_owner_context's AtEOXact_GUC(false)
  // undoes a LOCAL change at our nest level all the same, on every version.
  (void)set_config_option("transaction_read_only", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true,
                          0, false);
}

void leave_owner_context(const OwnerContext* save) {
  AtEOXact_GUC(false, save->guc_nest_level);
  SetUserIdAndSecContext(save->saved_user, save->saved_sec_context);
  LockReleaseSession(USER_LOCKMETHOD);
}

SPIPlanPtr prepare_single_select(const char* sql) {
  SPIPlanPtr plan = SPI_prepare(sql, 0, nullptr);
  if (plan == nullptr)
    elog(ERROR, "pg_exporter: could not plan the query: %s", SPI_result_code_string(SPI_result));
  List* sources = SPI_plan_get_plan_sources(plan);
  if (list_length(sources) != 1)
    ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("the query must be a single SELECT statement")));
  auto* source = static_cast<CachedPlanSource*>(linitial(sources));
  bool plain = source->raw_parse_tree != nullptr && IsA(source->raw_parse_tree->stmt, SelectStmt);
  ListCell* lc;
  foreach (lc, source->query_list) {
    Query* q = lfirst_node(Query, lc);
    plain = plain && q->commandType == CMD_SELECT && q->utilityStmt == nullptr && !q->hasModifyingCTE &&
            q->rowMarks == NIL;
  }
  if (!plain)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("the query must be a single SELECT, VALUES or TABLE statement"),
                    errdetail("Data-modifying WITH, SELECT INTO and FOR UPDATE/SHARE are not allowed.")));
  return plan;
}

namespace {

struct Args {
  const char* sql;
  Oid owner;
  uint64 max_rows;
  bool allow_superuser;
  void* cxt;
  spi::RawResult* out;
};

void run(void* p) {
  auto* a = static_cast<Args*>(p);
  if (!IsSubTransaction()) elog(ERROR, "pg_exporter: a custom query must run in a subtransaction");
  if (!a->allow_superuser && superuser_arg(a->owner))
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
             errmsg("owned by superuser \"%s\": not run", GetUserNameFromId(a->owner, true)),
             errhint("Give the definition a non-superuser owner, or set pg_exporter.superuser_metrics.")));
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_exporter: SPI_connect failed");
  OwnerContext save;
  enter_owner_context(a->owner, &save);
  SPIPlanPtr plan = prepare_single_select(a->sql);
  // read_only: SPI refuses anything but a read-only statement as well.
  int rc = SPI_execute_plan(plan, nullptr, nullptr, true, static_cast<long>(a->max_rows + 1));
  if (rc != SPI_OK_SELECT) elog(ERROR, "pg_exporter: query did not return rows (SPI code %d)", rc);
  if (SPI_processed > a->max_rows)
    ereport(ERROR,
            (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
             errmsg("query returned more than %llu rows", static_cast<unsigned long long>(a->max_rows))));
  spi::copy_tuptable(a->cxt, a->out);
  // A die() the query brought on itself (pg_terminate_backend of its own
  // backend) is taken here, while the part is still marked running.
  CHECK_FOR_INTERRUPTS();
  leave_owner_context(&save);
  SPI_freeplan(plan);
  SPI_finish();
}

}  // namespace

ResultSet query_as_owner(const std::string& sql, uint32_t owner, uint64_t max_rows, bool allow_superuser) {
  spi::ScratchContext scratch;
  spi::RawResult raw;
  Args args{sql.c_str(), static_cast<Oid>(owner), max_rows, allow_superuser, scratch.get(), &raw};
  try {
    guard([&] { run(&args); });
  } catch (...) {
    release_session_locks();
    throw;
  }
  return spi::to_result_set(raw);
}

bool current_user_has_privileges_of(uint32_t role) {
  bool has = false;
  guard([&] { has = has_privs_of_role(GetUserId(), static_cast<Oid>(role)); });
  return has;
}

void release_session_locks() noexcept {
  GuardError ignored;
  guarded_call([](void*) { LockReleaseSession(USER_LOCKMETHOD); }, nullptr, &ignored);
}

}  // namespace pgx
