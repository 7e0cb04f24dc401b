// A query result built in memory, as the SPI layer would fill it: for
// collectors and caches tested without a server.
#pragma once

#include <string>
#include <vector>

#include "pg/result.h"

namespace unit {

// Cells are text as PostgreSQL writes it; nullptr is NULL.
inline pgx::ResultSet result_rows(const std::vector<std::string>& columns,
                                  const std::vector<std::vector<const char*>>& rows) {
  pgx::ResultSet rs;
  rs.reset(columns.size());
  for (size_t c = 0; c < columns.size(); c++) rs.set_column_name(c, columns[c]);
  for (const auto& row : rows) {
    rs.add_row();
    for (size_t c = 0; c < row.size(); c++) rs.set_cell(c, row[c]);
  }
  return rs;
}

}  // namespace unit
