#include "http/negotiate.h"

#include <cstdlib>
#include <string>

#include "http/text.h"

namespace http {

namespace {

struct Item {
  std::string value;  // lower-cased media range or coding
  std::string version;
  double q = 1;
};

// One element of a comma-separated list with ;parameters. Bounded work:
// the header is bounded by the request head limit.
Item parse_item(std::string_view s) {
  Item it;
  size_t semi = s.find(';');
  it.value = lower(trim(s.substr(0, semi)));
  while (semi != std::string_view::npos) {
    s.remove_prefix(semi + 1);
    semi = s.find(';');
    std::string_view param = trim(s.substr(0, semi));
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name = lower(trim(param.substr(0, eq)));
    std::string_view value = trim(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (name == "q") {
      std::string v(value.substr(0, 16));
      char* end = nullptr;
      double q = std::strtod(v.c_str(), &end);
      it.q = (end == v.c_str() || !(q >= 0) || q > 1) ? 0 : q;
    } else if (name == "version") {
      it.version = std::string(value.substr(0, 32));
    }
  }
  return it;
}

template <typename Fn>
void for_each_item(std::string_view list, Fn fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view part = trim(list.substr(0, comma));
    if (!part.empty()) fn(parse_item(part));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

bool accepts_gzip(std::string_view header) {
  double gzip = -1, star = -1;
  for_each_item(header, [&](const Item& it) {
    if (it.value == "gzip" || it.value == "x-gzip") gzip = std::max(gzip, it.q);
    if (it.value == "*") star = std::max(star, it.q);
  });
  if (gzip >= 0) return gzip > 0;
  return star > 0;
}

bool prefers_openmetrics(std::string_view header) {
  double om = -1, text = -1;
  int om_pos = -1, text_pos = -1, pos = 0;
  for_each_item(header, [&](const Item& it) {
    pos++;
    if (it.value == "application/openmetrics-text" &&
        (it.version.empty() || it.version == "1.0.0" || it.version == "0.0.1")) {
      if (it.q > om) {
        om = it.q;
        om_pos = pos;
      }
    } else if (it.value == "text/plain" || it.value == "text/*" || it.value == "*/*") {
      if (it.q > text) {
        text = it.q;
        text_pos = pos;
      }
    }
  });
  if (om <= 0) return false;
  if (text < 0) return true;
  return om > text || (om == text && om_pos < text_pos);
}

}  // namespace http
