// libFuzzer target: the /proc parsers (stat, /proc/stat's btime, limits) on
// any text. Each must return a value or nullopt, never crash or read past the
// input. `make fuzz` builds it; .ci/fuzz.sh runs it on test/fuzz/corpus/procfs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "procfs/process_stat.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes: ASan sees any read beyond it.
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string_view v(text);
  if (auto s = procfs::parse_stat(v)) {
    if (s->state == '\0' && s->rss_pages < 0 && s->ppid < 0) __builtin_trap();  // keeps the result used
  }
  (void)procfs::parse_boot_time(v);
  (void)procfs::parse_max_open_files(v);
  return 0;
}
