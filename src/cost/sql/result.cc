// Output of `cost sql` (declared in engine.h).
#include <cmath>

#include "core/table.h"
#include "cost/sql/engine.h"

namespace sagebox::sql {

namespace {
bool RightAligned(const SqlType& t) { return IsNumeric(t.kind); }
}  // namespace

std::string ResultToTable(const ResultSet& r) {
  std::vector<TextTable::Align> align;
  align.reserve(r.types.size());
  for (const auto& t : r.types) {
    align.push_back(RightAligned(t) ? TextTable::Align::kRight : TextTable::Align::kLeft);
  }
  TextTable tt(r.names, align);
  for (const auto& row : r.rows) {
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (const auto& v : row) cells.push_back(v.null() ? "NULL" : ToText(v));
    tt.AddRow(std::move(cells));
  }
  return tt.Render() + "(" + std::to_string(r.rows.size()) +
         (r.rows.size() == 1 ? " row)\n" : " rows)\n");
}

std::string ResultToCsv(const ResultSet& r) {
  std::string out;
  for (size_t i = 0; i < r.names.size(); ++i) {
    if (i) out += ",";
    out += CsvField(r.names[i]);
  }
  out += "\n";
  for (const auto& row : r.rows) out += CsvLine(row);
  return out;
}

std::string CsvLine(const std::vector<Value>& row) {
  std::string out;
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) out += ",";
    if (!row[i].null()) out += CsvField(ToText(row[i]));
  }
  out += "\n";
  return out;
}

nlohmann::json ResultToJson(const ResultSet& r) {
  nlohmann::json cols = nlohmann::json::array();
  for (size_t i = 0; i < r.names.size(); ++i) {
    cols.push_back({{"name", r.names[i]}, {"type", r.types[i].Name()}});
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : r.rows) {
    nlohmann::json jr = nlohmann::json::array();
    for (const auto& v : row) {
      switch (v.kind) {
        case Kind::kNull:
          jr.push_back(nullptr);
          break;
        case Kind::kBool:
          jr.push_back(v.i != 0);
          break;
        case Kind::kBigint:
          jr.push_back(v.i);
          break;
        case Kind::kDouble:
          if (std::isfinite(v.d)) {
            jr.push_back(v.d);
          } else {
            jr.push_back(ToText(v));
          }
          break;
        default:
          jr.push_back(ToText(v));  // decimals exact, as strings
          break;
      }
    }
    rows.push_back(std::move(jr));
  }
  return {{"columns", std::move(cols)}, {"rows", std::move(rows)}};
}

}  // namespace sagebox::sql
