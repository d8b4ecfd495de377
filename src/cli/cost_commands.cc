// `sagebox cost ...`: thin wrappers over the cost library.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "core/progress.h"
#include "cost/ingest.h"
#include "cost/query.h"
#include "cost/report.h"
#include "store/store.h"

namespace sagebox::cli {

namespace {

struct QueryFlags {
  std::string from, to, granularity = "MONTHLY", metrics = "UnblendedCost", format;
  std::vector<std::string> group_by, filters;
};

bool StdoutIsTerminal() { return ::isatty(STDOUT_FILENO) == 1; }

StatusOr<cost::Query> BuildQuery(const QueryFlags& f) {
  cost::Query q;
  RETURN_IF_ERROR(ParseDateFlag("--from", f.from, &q.from));
  RETURN_IF_ERROR(ParseDateFlag("--to", f.to, &q.to));
  ASSIGN_OR_RETURN(q.granularity, cost::ParseGranularity(f.granularity));
  q.metrics.clear();
  size_t i = 0;
  while (i <= f.metrics.size()) {
    size_t j = f.metrics.find(',', i);
    if (j == std::string::npos) j = f.metrics.size();
    ASSIGN_OR_RETURN(auto m, cost::ParseMetric(f.metrics.substr(i, j - i)));
    q.metrics.push_back(m);
    i = j + 1;
  }
  if (f.group_by.size() > 2) return InvalidArgument("at most two --group-by, as in Cost Explorer");
  for (const auto& gb : f.group_by) {
    ASSIGN_OR_RETURN(auto d, cost::ParseDimension(gb));
    q.group_by.push_back(d);
  }
  for (const auto& fl : f.filters) {
    ASSIGN_OR_RETURN(auto x, cost::ParseFilter(fl));
    q.filters.push_back(x);
  }
  return q;
}

int RunIngest(const Globals& g, const std::vector<std::string>& paths, bool quiet) {
  Progress progress("ingest", !quiet && Progress::StderrIsTerminal());
  cost::IngestOptions opt;
  opt.progress = [&](uint64_t done, uint64_t total, uint64_t rows) {
    progress.Update(done, total, rows);
  };
  auto start = std::chrono::steady_clock::now();
  auto r = cost::Ingest(Env::Default(), g.store, paths, opt);
  progress.Done();
  if (!r.ok()) return Fail(r.status().WithContext("ingest failed, the store is unchanged"));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string formats;
  for (const auto& [f, n] : r->formats)
    formats += fmt::format("{}{} {}", formats.empty() ? "" : ", ", n, f);
  std::string periods;
  for (const auto& p : r->periods) periods += (periods.empty() ? "" : " ") + p;
  std::printf(
      "ingested %d file(s) (%s): %lld line items, %s in %.2f s (%s/s)\n", r->files, formats.c_str(),
      static_cast<long long>(r->rows), HumanBytes(r->plain_bytes).c_str(), secs,
      HumanBytes(static_cast<uint64_t>(static_cast<double>(r->plain_bytes) / std::max(secs, 1e-9)))
          .c_str());
  std::printf("billing periods: %s; replaced %d earlier segment(s)\n", periods.c_str(),
              r->segments_replaced);
  if (!r->skipped.empty()) {
    std::printf("skipped %zu file(s) of superseded deliveries (a newer manifest replaces them)\n",
                r->skipped.size());
  }
  std::printf("store: %s\n", g.store.c_str());
  return 0;
}

}  // namespace

void AddCostCommands(CLI::App& app, Globals& g, int* exit_code) {
  auto* cost = app.add_subcommand("cost", "Analyze SageMaker spend from AWS billing exports");
  cost->require_subcommand(1);

  // ingest
  auto* ingest = cost->add_subcommand(
      "ingest",
      "Read billing exports into the store.\n"
      "PATH is a file or a folder synced from the export's S3 prefix. Formats are detected from\n"
      "the header: legacy CUR (lineItem/...), CUR 1.0 for Athena and CUR 2.0 (snake_case), FOCUS\n"
      "1.0-1.2; plain, .gz or .zip. In folders, manifests decide: the newest delivery of a "
      "billing\n"
      "period replaces everything stored for it earlier; ingesting the same files twice changes\n"
      "nothing. A bad file stops the ingest with exit code 2 and leaves the store unchanged.");
  static std::vector<std::string> paths;
  static bool quiet = false;
  ingest->add_option("PATH", paths, "Export files or folders")->required();
  ingest->add_flag("-q,--quiet", quiet, "No progress display");
  ingest->callback([&g, exit_code] { *exit_code = RunIngest(g, paths, quiet); });

  // query
  static QueryFlags qf;
  auto* query = cost->add_subcommand(
      "query",
      "Cost Explorer's GetCostAndUsage over the store.\n"
      "Examples:\n"
      "  sagebox cost query --from 2024-01-01 --to 2024-04-01 --group-by SERVICE\n"
      "  sagebox cost query --granularity DAILY --filter USAGE_TYPE~Notebk --group-by RESOURCE_ID\n"
      "  sagebox cost query --metrics UnblendedCost,AmortizedCost --group-by TAG:team --format "
      "json");
  query->add_option("--from", qf.from, "First day, YYYY-MM-DD (default: start of the data)");
  query->add_option("--to", qf.to,
                    "Day after the last, YYYY-MM-DD, exclusive (default: end of the data)");
  query->add_option("--granularity", qf.granularity, "HOURLY, DAILY or MONTHLY")
      ->capture_default_str();
  query
      ->add_option("--metrics", qf.metrics,
                   "Comma-separated: UnblendedCost, AmortizedCost, NetUnblendedCost, BlendedCost, "
                   "UsageQuantity")
      ->capture_default_str();
  query->add_option(
      "--group-by", qf.group_by,
      "Up to two: SERVICE, USAGE_TYPE, USAGE_KIND, INSTANCE_TYPE, REGION, LINKED_ACCOUNT,\n"
      "PAYER_ACCOUNT, OPERATION, LINE_ITEM_TYPE, RESOURCE_ID, AZ, PURCHASE_TYPE, "
      "BILLING_PERIOD\nor TAG:key");
  query->add_option(
      "--filter", qf.filters,
      "DIM=VALUE[,VALUE...] (any of) or DIM~SUBSTRING (case-insensitive); repeat to AND");
  query->add_option("--format", qf.format,
                    "table, csv or json (default: table on a terminal, else csv)");
  query->callback([&g, exit_code] {
    auto q = BuildQuery(qf);
    if (!q.ok()) {
      *exit_code = Fail(q.status());
      return;
    }
    auto st = store::Store::Open(Env::Default(), g.store);
    if (!st.ok()) {
      *exit_code = Fail(st.status());
      return;
    }
    Status rs = cost::ResolveDefaultRange(**st, &*q);
    if (!rs.ok()) {
      *exit_code = Fail(rs);
      return;
    }
    auto r = cost::RunQuery(**st, *q);
    if (!r.ok()) {
      *exit_code = Fail(r.status());
      return;
    }
    std::string fmt_name = qf.format.empty() ? (StdoutIsTerminal() ? "table" : "csv") : qf.format;
    if (fmt_name == "json")
      std::cout << cost::QueryToJson(*r).dump(2) << "\n";
    else if (fmt_name == "csv")
      std::cout << cost::QueryToCsv(*r);
    else if (fmt_name == "table")
      std::cout << cost::QueryToTable(*r);
    else
      *exit_code = Fail(InvalidArgument("--format must be table, csv or json"));
  });

  // summary
  static std::string summary_format = "table", as_of;
  auto* summary = cost->add_subcommand(
      "summary",
      "The billing console's overview: month-to-date spend against the same days last month,\n"
      "the top services, accounts and regions, and the trend of the top five services over\n"
      "the last closed months. 'Today' is the last day with data unless --as-of is given.");
  summary->add_option("--format", summary_format, "table or json")->capture_default_str();
  summary->add_option("--as-of", as_of, "Treat this day (YYYY-MM-DD) as today");
  summary->callback([&g, exit_code] {
    Days day = 0;
    if (Status ds = ParseDateFlag("--as-of", as_of, &day); !ds.ok()) {
      *exit_code = Fail(ds);
      return;
    }
    auto st = store::Store::Open(Env::Default(), g.store);
    if (!st.ok()) {
      *exit_code = Fail(st.status());
      return;
    }
    auto s = cost::BuildSummary(**st, day);
    if (!s.ok()) {
      *exit_code = Fail(s.status());
      return;
    }
    if (summary_format == "json")
      std::cout << cost::SummaryToJson(*s).dump(2) << "\n";
    else
      std::cout << cost::SummaryToText(*s);
  });

  AddForecastCommand(*cost, g, exit_code);
  AddBudgetsCommand(*cost, g, exit_code);
  AddFindingsCommand(*cost, g, exit_code);
  AddSavingsPlansCommands(*cost, g, exit_code);
}

}  // namespace sagebox::cli
