// SQL that depends on the server version, built by pure functions so that the
// unit tests check every supported version's choice (only one server version
// runs in CI). Each collector with version-dependent SQL declares its builder
// here; the definition lives in the collector's own file.
#pragma once

#include <string>
#include <vector>

namespace collectors {

// The versions the exporter answers for: 13 to 18.
constexpr int kOldestSupportedVersion = 130000;
constexpr int kNewestKnownVersion = 189999;

}  // namespace collectors
