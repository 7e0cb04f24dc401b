#include "collectors/selection.h"

#include <algorithm>

namespace collectors {

namespace {
std::vector<std::string_view> tokens(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) i++;
    size_t j = i;
    while (j < text.size() && !(text[j] == ',' || text[j] == ' ' || text[j] == '\t' || text[j] == '\n')) j++;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string known_names() {
  std::string s;
  for (const Collector* c : all()) {
    if (!s.empty()) s += ", ";
    s += c->name;
  }
  return s;
}
}  // namespace

bool parse_selection(std::string_view text, std::vector<const Collector*>* out, std::string* error) {
  std::vector<bool> chosen(all().size(), false);
  for (std::string_view tok : tokens(text)) {
    bool remove = tok[0] == '-';
    std::string_view name = remove ? tok.substr(1) : tok;
    for (size_t i = 0; i < all().size(); i++) {
      const Collector* c = all()[i];
      bool match = name == c->name || name == "all" || (name == "default" && c->enabled_by_default);
      if (match) chosen[i] = !remove;
    }
    if (name != "all" && name != "default" && find(name) == nullptr) {
      *error = "unknown collector \"" + std::string(name) + "\"; known collectors: " + known_names() +
               " (and the words default, all, -name)";
      return false;
    }
  }
  out->clear();
  for (size_t i = 0; i < all().size(); i++) {
    if (chosen[i]) out->push_back(all()[i]);
  }
  return true;
}

}  // namespace collectors
