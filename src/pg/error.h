// A PostgreSQL ERROR turned into a C++ exception by the guarded boundary.
// No PostgreSQL header here: pure C++ code catches this type.
#pragma once

#include <stdexcept>
#include <string>

namespace pgx {

class PgError : public std::runtime_error {
 public:
  PgError(const std::string& message, const std::string& sqlstate)
      : std::runtime_error(message), sqlstate_(sqlstate) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

}  // namespace pgx
