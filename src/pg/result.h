// A query result copied out of SPI into C++ memory, read by column name.
// No PostgreSQL header here: collectors include this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgx {

class ResultSet {
 public:
  size_t rows() const { return nrows_; }
  size_t columns() const { return names_.size(); }
  const std::string& column_name(size_t c) const { return names_[c]; }
  // Index of the named column, or -1 when the query has no such column.
  int column(std::string_view name) const;
  // The same for a column the query must have: throws std::runtime_error
  // naming it when it is missing (a collector's SQL and reader disagree).
  size_t require(std::string_view name) const;

  bool is_null(size_t r, size_t c) const { return cell(r, c).offset == kNull; }
  // The text form of a cell; "" for NULL.
  std::string_view text(size_t r, size_t c) const;
  // The cell as a number: numeric/int/float text, booleans as 1/0.
  // NULL or unparsable text gives nullopt (never a silent 0).
  std::optional<double> number(size_t r, size_t c) const;

  // Building (used by the SPI layer).
  void reset(size_t ncols);
  void reserve(size_t rows, size_t text_bytes);
  void set_column_name(size_t c, std::string_view name);
  void add_row();
  void set_cell(size_t c, const char* value);  // nullptr = NULL
  // A cell of any row replaced: in place when the new text fits, else
  // appended. The text left unused (slack()) stays until the set is rebuilt.
  void replace_cell(size_t r, size_t c, std::string_view value, bool null);
  size_t slack() const { return slack_; }
  size_t text_bytes() const { return arena_.size(); }

 private:
  // Eight bytes a cell: a 40,000-row catalog read is hundreds of thousands.
  static constexpr uint32_t kNull = UINT32_MAX;
  struct Cell {
    uint32_t offset = kNull;
    uint32_t length = 0;
  };
  const Cell& cell(size_t r, size_t c) const { return cells_[r * names_.size() + c]; }

  std::vector<std::string> names_;
  std::vector<Cell> cells_;
  std::string arena_;
  size_t slack_ = 0;
  size_t nrows_ = 0;
};

// Parses PostgreSQL's text output of a number or boolean.
std::optional<double> parse_pg_number(std::string_view text);

}  // namespace pgx
