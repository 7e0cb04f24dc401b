// Parsing of the pg_exporter.collectors setting: a comma- or space-separated
// list of collector names, where "default" stands for the default set, "all"
// for every collector, and "-name" removes one (e.g. "default, -locks").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"

namespace collectors {

// Returns false and sets *error (naming the bad token and the known names)
// when the list is invalid.
bool parse_selection(std::string_view text, std::vector<const Collector*>* out, std::string* error);

}  // namespace collectors
