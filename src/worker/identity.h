// Whose privileges a worker's SQL runs with: pg_exporter.role, taken on
// unless the configuration files hold a value its checks refuse (then no SQL
// runs: the worker does not fall back to a default it was not given). Both
// workers keep one; refresh() at start and after each reload.
#pragma once

#include <string>

namespace worker {

class Identity {
 public:
  explicit Identity(std::string role) : role_(std::move(role)) {}
  void refresh();
  // "" when SQL may run, else why not.
  std::string refused() const;
  bool assumed() const { return assumed_; }
  const std::string& role() const { return role_; }

 private:
  std::string role_;
  std::string refused_in_files_;
  std::string error_;
  bool assumed_ = false;
};

}  // namespace worker
