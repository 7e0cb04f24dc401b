#include "worker/identity.h"

#include "pg/backend.h"
#include "pg/session.h"

namespace worker {

void Identity::refresh() {
  std::string refused;
  for (const pgx::RefusedSetting& r : pgx::refused_settings({"pg_exporter.role"}))
    refused = r.name + " = '" + r.value + "' in the configuration files is refused (" + r.why + ")";
  if (refused != refused_in_files_ && !refused.empty())
    pgx::log(pgx::LogLevel::kWarning, refused + ": running no SQL until a reload fixes it");
  refused_in_files_ = refused;
  if (refused_in_files_.empty() && !assumed_) {
    error_ = pgx::assume_role(role_.c_str());
    assumed_ = error_.empty();
    if (!assumed_)
      pgx::log(pgx::LogLevel::kWarning,
               error_ + ": running no SQL until it exists and the configuration is reloaded");
  }
}

std::string Identity::refused() const {
  if (!refused_in_files_.empty()) return refused_in_files_;
  if (!assumed_) return error_.empty() ? "pg_exporter.role not taken on" : error_;
  return "";
}

}  // namespace worker
