#include "metrics/openmetrics.h"

namespace metrics {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// HELP text as OpenMetrics escapes it: the text format's \\ and \n pairs
// stay, a double quote is escaped.
void append_help(std::string_view text, std::string* out) {
  for (size_t i = 0; i < text.size(); i++) {
    const char c = text[i];
    if (c == '\\') {
      if (i + 1 < text.size() && (text[i + 1] == '\\' || text[i + 1] == 'n' || text[i + 1] == '"')) {
        out->push_back('\\');
        out->push_back(text[++i]);
      } else {
        out->append("\\\\");
      }
    } else if (c == '"') {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

void OpenMetricsWriter::flush_help(std::string* out) {
  if (!help_pending_) return;
  out->append("# HELP ").append(help_name_).push_back(' ');
  append_help(help_text_, out);
  out->push_back('\n');
  help_pending_ = false;
}

void OpenMetricsWriter::line(std::string_view l, std::string* out) {
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  if (l.empty()) return;
  if (l[0] == '#') {
    if (l.substr(0, 7) == "# HELP ") {
      flush_help(out);
      std::string_view rest = l.substr(7);
      const size_t sp = rest.find(' ');
      help_name_ = std::string(rest.substr(0, sp));
      help_text_ = sp == std::string_view::npos ? std::string() : std::string(rest.substr(sp + 1));
      help_pending_ = true;
      return;
    }
    if (l.substr(0, 7) == "# TYPE ") {
      std::string_view rest = l.substr(7);
      const size_t sp = rest.find(' ');
      std::string_view name = rest.substr(0, sp);
      std::string_view type =
          sp == std::string_view::npos ? std::string_view("untyped") : rest.substr(sp + 1);
      std::string_view family = name;
      if (type == "counter") {
        if (ends_with(name, "_total") && name.size() > 6) {
          family = name.substr(0, name.size() - 6);
        } else {
          type = "unknown";
        }
      } else if (type == "untyped") {
        type = "unknown";
      }
      if (help_pending_ && help_name_ == name) help_name_ = std::string(family);
      flush_help(out);
      out->append("# TYPE ").append(family).push_back(' ');
      out->append(type).push_back('\n');
      return;
    }
    return;  // other comments are not OpenMetrics
  }
  flush_help(out);
  if (ends_with(l, " Nan")) {
    out->append(l.substr(0, l.size() - 3)).append("NaN\n");
    return;
  }
  out->append(l).push_back('\n');
}

void OpenMetricsWriter::feed(std::string_view text, std::string* out) {
  if (!carry_.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      carry_.append(text);
      return;
    }
    carry_.append(text.substr(0, nl));
    line(carry_, out);
    carry_.clear();
    text.remove_prefix(nl + 1);
  }
  for (;;) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    line(text.substr(0, nl), out);
    text.remove_prefix(nl + 1);
  }
  carry_.append(text);
}

void OpenMetricsWriter::finish(std::string* out) {
  if (!carry_.empty()) {
    line(carry_, out);
    carry_.clear();
  }
  flush_help(out);
  out->append("# EOF\n");
}

std::string to_openmetrics(std::string_view text) {
  OpenMetricsWriter w;
  std::string out;
  w.feed(text, &out);
  w.finish(&out);
  return out;
}

}  // namespace metrics
