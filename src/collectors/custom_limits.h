// Bounds of user-defined metrics, shared by the custom collector and the
// shared-memory status that shows each definition's outcome (the extension's
// CHECK constraints say the same). No other header here.
#pragma once

#include <cstddef>

namespace collectors {

// Enabled definitions one scrape runs; more fails the custom collector.
constexpr int kMaxCustomMetrics = 200;
// A definition's name ("custom:<name>" in the status) and query text.
constexpr size_t kMaxCustomNameBytes = 100;
constexpr size_t kMaxCustomQueryBytes = 65536;

}  // namespace collectors
