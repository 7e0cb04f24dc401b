// A planned collector (custom metrics) run by another process for this
// scrape: what the scrape asks (its budget, the families it already has) and
// what comes back (each part's outcome and the families, rendered), as bytes
// for a file. Pure C++; the decoder takes nothing on trust.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scrape/scrape.h"

namespace scrape {

struct RemoteRequest {
  int budget_ms = 0;             // what is left of the scrape's budget (0: none)
  int statement_timeout_ms = 0;  // pg_exporter.statement_timeout
  bool superuser_owners_allowed = false;
  std::vector<std::string> taken;  // family names the parts may not use
};

struct RemoteResult {
  std::vector<Outcome> outcomes;  // the collector's own first, then its parts'
  std::string rendered;           // their families' exposition lines
  std::string error;              // the run as a whole failed (no outcomes then)
  bool short_of_time = false;     // ... because the scrape's budget ran out first
};

std::string encode(const RemoteRequest& r);
// False and *why for bytes that are not an encoded request.
bool decode(std::string_view bytes, RemoteRequest* out, std::string* why);

std::string encode(const RemoteResult& r);
// Outcomes come back for `collector` (a pointer into this process's registry).
bool decode(std::string_view bytes, const collectors::Collector* collector, RemoteResult* out,
            std::string* why);

}  // namespace scrape
