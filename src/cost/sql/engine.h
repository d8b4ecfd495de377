// engine.h: `cost sql`: read-only Athena/Trino-dialect SELECT over the
// billing store.
//
// The store is exposed as one table with the Athena CUR 1.0 snake_case
// column names (line_item_usage_type, line_item_unblended_cost,
// resource_tags_user_team, ...), whatever export format was ingested; see
// CurColumns(). It may be called {$table_name}, ${table_name},
// customer_all, or the name given in SqlOptions::table_name (optionally
// qualified, db.table). Differences from Athena, all deliberate:
//   - numeric CUR columns are exact DECIMAL(38,10) (Athena: DOUBLE), so
//     SUM of them is exact; CAST(... AS DOUBLE) gives Athena's double;
//   - timestamps are whole seconds (CUR's are);
//   - year and month are the billing period's partition values ('2024',
//     '1'), as in AWS's Athena integration.
// A column the store does not hold, a function outside the subset or a
// type mismatch Athena would reject is an error pointing at the token;
// nothing outside the subset is approximated.
//
// Execution is columnar: per segment and row group, only the referenced
// columns are read; a WHERE term or GROUP BY key over one string column is
// evaluated once per dictionary entry, one over a timestamp once per
// distinct timestamp; aggregation hashes small code tuples per segment and
// merges by value; sums of decimals are exact.
//
// Thread-safety: RunSql is reentrant; the Store is only read.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "cost/sql/lexer.h"
#include "cost/sql/value.h"
#include "store/store.h"

namespace sagebox::sql {

struct ResultSet {
  std::vector<std::string> names;
  std::vector<SqlType> types;
  std::vector<std::vector<Value>> rows;
  bool streamed = false;  // rows went to SqlOptions::row_sink instead
};

struct SqlOptions {
  Days as_of = 0;          // current_date; 0 = today (UTC)
  std::string table_name;  // another accepted table name (besides the defaults)
  // Optional: rows of a query that needs no sorting (no aggregation, no
  // ORDER BY) are handed here one at a time, in store order, instead of
  // being collected; `head` has the names and types. An error it returns
  // stops the query and is returned by RunSql.
  std::function<Status(const ResultSet& head, std::vector<Value>& row)> row_sink;
};

// Runs one SELECT. BadInput "query:line:col: ..." (with a caret line) for
// syntax errors, unknown columns, functions or tables, type errors and
// runtime errors (a failed CAST, division by zero, decimal overflow);
// NotFound if the store is empty; Corruption if a segment is damaged.
StatusOr<ResultSet> RunSql(const store::Store& st, const Source& src, const SqlOptions& opt);

// The table's columns (Athena names and SQL types), tags of `st` included.
std::vector<std::pair<std::string, std::string>> CurColumns(const store::Store& st);

// Output, following `cost query`: an aligned table (NULL shown as NULL),
// CSV (NULL empty), JSON {"columns":[{"name","type"}],"rows":[[...]]}
// with decimals as exact strings and doubles/bigints as numbers.
std::string ResultToTable(const ResultSet& r);
std::string ResultToCsv(const ResultSet& r);
// One CSV line (with its newline), as ResultToCsv writes rows.
std::string CsvLine(const std::vector<Value>& row);
nlohmann::json ResultToJson(const ResultSet& r);

}  // namespace sagebox::sql
