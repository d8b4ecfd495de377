// `sagebox cost sql`: Athena-dialect SELECT over the store (src/sql).
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "cost/sql/engine.h"
#include "store/store.h"

namespace sagebox::cli {

namespace {

struct SqlFlags {
  std::string query, file, as_of, format, table_name;
  bool columns = false;
};

int RunSqlCommand(const Globals& g, const SqlFlags& f) {
  sql::SqlOptions opt;
  opt.table_name = f.table_name;
  if (!f.as_of.empty()) {
    auto d = ParseDate(f.as_of);
    if (!d)
      return Fail(InvalidArgument("--as-of '" + f.as_of + "' is not a date (expected YYYY-MM-DD)"));
    opt.as_of = *d;
  }
  std::string fmt = f.format.empty() ? (::isatty(STDOUT_FILENO) == 1 ? "table" : "csv") : f.format;
  if (fmt != "table" && fmt != "csv" && fmt != "json") {
    return Fail(InvalidArgument("--format must be table, csv or json"));
  }
  auto st = store::Store::Open(Env::Default(), g.store);
  if (!st.ok()) return Fail(st.status());
  if (f.columns) {
    for (const auto& [name, type] : sql::CurColumns(**st))
      std::printf("%s %s\n", name.c_str(), type.c_str());
    return 0;
  }
  std::string text;
  sql::Source src;
  if (!f.file.empty()) {
    if (!f.query.empty()) return Fail(InvalidArgument("give the query or --file, not both"));
    Status rs = Env::Default()->ReadFileToString(f.file, &text);
    // A --file that cannot be read is a usage error (exit 1), not an internal one.
    if (!rs.ok()) return Fail(InvalidArgument("--file: " + rs.message()));
    src.name = f.file;
  } else if (!f.query.empty()) {
    text = f.query;
  } else {
    return Fail(InvalidArgument("give a query, e.g. sagebox cost sql \"SELECT ...\", or --file F"));
  }
  src.text = text;
  // CSV streams rows that need no sorting (a SELECT * of millions of rows
  // is never held in memory); the header goes out before the first row.
  bool header_done = false;
  auto header = [&](const sql::ResultSet& head) {
    if (header_done) return;
    sql::ResultSet h;
    h.names = head.names;
    std::cout << sql::ResultToCsv(h);
    header_done = true;
  };
  if (fmt == "csv") {
    opt.row_sink = [&](const sql::ResultSet& head, std::vector<sql::Value>& row) {
      header(head);
      std::cout << sql::CsvLine(row);
      return Status::Ok();
    };
  }
  auto r = sql::RunSql(**st, src, opt);
  if (!r.ok()) return Fail(r.status());
  if (r->streamed) {
    header(*r);
    std::cout.flush();
    return 0;
  }
  if (fmt == "json")
    std::cout << sql::ResultToJson(*r).dump(2) << "\n";
  else if (fmt == "csv")
    std::cout << sql::ResultToCsv(*r);
  else
    std::cout << sql::ResultToTable(*r);
  return 0;
}

}  // namespace

void AddSqlCommand(CLI::App& app, Globals& g, int* exit_code) {
  CLI::App* cost = app.get_subcommand("cost");
  static SqlFlags f;
  auto* cmd = cost->add_subcommand(
      "sql",
      "Run read-only Athena (Trino) SQL over the store, as the AWS articles and the CUR Query\n"
      "Library write it. The table has the Athena CUR 1.0 column names whatever was ingested,\n"
      "and is called {$table_name}, ${table_name}, customer_all or --table-name NAME.\n"
      "Examples:\n"
      "  sagebox cost sql \"SELECT line_item_usage_type, SUM(line_item_unblended_cost) FROM "
      "customer_all GROUP BY 1 ORDER BY 2 DESC LIMIT 10\"\n"
      "  sagebox cost sql --file sagemakerwrid.sql --as-of 2024-06-30 --format csv\n"
      "  sagebox cost sql --columns");
  cmd->add_option("QUERY", f.query, "The SELECT statement");
  cmd->add_option("--file", f.file, "Read the query from this file");
  cmd->add_option("--as-of", f.as_of,
                  "current_date for the query, YYYY-MM-DD (default: today, UTC)");
  cmd->add_option("--format", f.format,
                  "table, csv or json (default: table on a terminal, else csv)");
  cmd->add_option("--table-name", f.table_name, "Another name the query may use for the table");
  cmd->add_flag("--columns", f.columns, "List the table's columns and types, then exit");
  cmd->callback([&g, exit_code] { *exit_code = RunSqlCommand(g, f); });
}

}  // namespace sagebox::cli
