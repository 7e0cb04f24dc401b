// A minimal unit-test harness for the parts of pg_exporter that include no
// PostgreSQL header. TEST(name) { CHECK(expr); CHECK_EQ(a, b); }
// The runner prints "N passed, N failed" and exits non-zero on failure.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace unit {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures_in_case() {
  static int n = 0;
  return n;
}

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

inline void fail(const char* file, int line, const std::string& what) {
  std::cerr << file << ":" << line << ": FAILED: " << what << "\n";
  failures_in_case()++;
}

// A folder of this test run's own (mkdtemp under $TMPDIR or /tmp), removed
// at exit; tests must leave it empty.
inline const char* temp_dir() {
  static char dir[4096] = "";
  if (dir[0] == '\0') {
    const char* t = std::getenv("TMPDIR");
    std::snprintf(dir, sizeof dir, "%s/pg_exporter_unit_XXXXXX", t && *t ? t : "/tmp");
    if (mkdtemp(dir) == nullptr) std::snprintf(dir, sizeof dir, "/nonexistent-unit-temp-dir");
    // A plain array outlives every exit handler.
    std::atexit([] { rmdir(dir); });
  }
  return dir;
}

}  // namespace unit

#define UNIT_CAT2(a, b) a##b
#define UNIT_CAT(a, b) UNIT_CAT2(a, b)
#define TEST(name)                                                           \
  static void UNIT_CAT(test_, name)();                                       \
  static unit::Registrar UNIT_CAT(reg_, name)(#name, UNIT_CAT(test_, name)); \
  static void UNIT_CAT(test_, name)()

#define CHECK(expr)                                     \
  do {                                                  \
    if (!(expr)) unit::fail(__FILE__, __LINE__, #expr); \
  } while (0)

#define CHECK_EQ(a, b)                                                      \
  do {                                                                      \
    auto&& unit_a_ = (a);                                                   \
    auto&& unit_b_ = (b);                                                   \
    if (!(unit_a_ == unit_b_)) {                                            \
      std::ostringstream unit_os_;                                          \
      unit_os_ << #a " == " #b " (" << unit_a_ << " vs " << unit_b_ << ")"; \
      unit::fail(__FILE__, __LINE__, unit_os_.str());                       \
    }                                                                       \
  } while (0)
