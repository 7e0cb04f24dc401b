#include <csignal>

#include "unit.h"

int main() {
  // As in a PostgreSQL backend: a peer that went away is an EPIPE, not a
  // signal (sendfile() has no MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  int passed = 0, failed = 0;
  for (const auto& c : unit::registry()) {
    unit::failures_in_case() = 0;
    try {
      c.fn();
    } catch (const std::exception& e) {
      unit::fail(c.name, 0, std::string("uncaught exception: ") + e.what());
    }
    if (unit::failures_in_case() == 0) {
      passed++;
    } else {
      failed++;
      std::cerr << "not ok: " << c.name << "\n";
    }
  }
  std::cout << "unit: " << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
