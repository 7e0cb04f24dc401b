#include "unit.h"

int main() {
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
