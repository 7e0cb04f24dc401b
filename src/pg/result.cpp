#include "pg/result.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace pgx {

int ResultSet::column(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); i++) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

size_t ResultSet::require(std::string_view name) const {
  int c = column(name);
  if (c < 0) throw std::runtime_error("query result has no column " + std::string(name));
  return static_cast<size_t>(c);
}

std::string_view ResultSet::text(size_t r, size_t c) const {
  const Cell& x = cell(r, c);
  if (x.offset == kNull) return {};
  return std::string_view(arena_.data() + x.offset, x.length);
}

std::optional<double> ResultSet::number(size_t r, size_t c) const {
  if (is_null(r, c)) return std::nullopt;
  return parse_pg_number(text(r, c));
}

void ResultSet::reset(size_t ncols) {
  names_.assign(ncols, std::string());
  cells_.clear();
  arena_.clear();
  slack_ = 0;
  nrows_ = 0;
}

void ResultSet::reserve(size_t rows, size_t text_bytes) {
  cells_.reserve(rows * names_.size());
  arena_.reserve(text_bytes);
}

void ResultSet::set_column_name(size_t c, std::string_view name) { names_.at(c) = std::string(name); }

void ResultSet::add_row() {
  cells_.resize(cells_.size() + names_.size());
  nrows_++;
}

void ResultSet::set_cell(size_t c, const char* value) {
  Cell& x = cells_.at((nrows_ - 1) * names_.size() + c);
  if (value == nullptr) {
    x = Cell{};
    return;
  }
  size_t len = std::strlen(value);
  // The SPI layer stops a result at 128 MB of text; this is the hard limit.
  if (arena_.size() + len >= kNull) throw std::length_error("query result over 4 GB of text");
  x.offset = static_cast<uint32_t>(arena_.size());
  x.length = static_cast<uint32_t>(len);
  arena_.append(value, len);
}

void ResultSet::replace_cell(size_t r, size_t c, std::string_view value, bool null) {
  Cell& x = cells_.at(r * names_.size() + c);
  const size_t old = x.offset == kNull ? 0 : x.length;
  if (null) {
    slack_ += old;
    x = Cell{};
    return;
  }
  if (x.offset != kNull && value.size() <= old) {
    arena_.replace(x.offset, value.size(), value.data(), value.size());
    slack_ += old - value.size();
    x.length = static_cast<uint32_t>(value.size());
    return;
  }
  if (arena_.size() + value.size() >= kNull) throw std::length_error("query result over 4 GB of text");
  slack_ += old;
  x.offset = static_cast<uint32_t>(arena_.size());
  x.length = static_cast<uint32_t>(value.size());
  arena_.append(value.data(), value.size());
}

std::optional<double> parse_pg_number(std::string_view text) {
  if (text == "t" || text == "true" || text == "on") return 1.0;
  if (text == "f" || text == "false" || text == "off") return 0.0;
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (text.empty() || text.size() > 400) return std::nullopt;
  char buf[401];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(buf, &end);
  if (end != buf + text.size()) return std::nullopt;
  // Overflow to +-HUGE_VAL is still the right magnitude for a gauge; underflow is 0.
  return v;
}

}  // namespace pgx
