// `sagebox demo`: generate realistic billing data in every supported format,
// ingest each into its own store, check that they agree, and show the summary.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "cli/serve.h"
#include "core/progress.h"
#include "cost/demo_gen.h"
#include "cost/findings/demo_inputs.h"
#include "cost/findings/engine.h"
#include "cost/findings/findings_text.h"
#include "cost/findings/html_report.h"
#include "cost/ingest.h"
#include "cost/query.h"
#include "cost/report.h"
#include "store/store.h"

namespace sagebox::cli {

namespace {

StatusOr<Decimal> TotalUnblended(const std::string& store_dir) {
  ASSIGN_OR_RETURN(auto st, store::Store::Open(Env::Default(), store_dir));
  cost::Query q;
  ASSIGN_OR_RETURN(auto r, cost::RunQuery(*st, q));
  Decimal sum;
  for (const auto& b : r.buckets) sum += b.total[0];
  return sum;
}

// A budgets file for the demo store, in the shape of `aws budgets
// describe-budgets`: SageMaker's monthly spend with its limit 20% above the
// last full month's (so the 80% alert fires and the forecast one may), and
// a 90% utilization floor for Savings Plans. Returns the file's path.
StatusOr<std::string> WriteDemoBudgets(Env* env, const store::Store& st, const std::string& dir) {
  ASSIGN_OR_RETURN(auto range, cost::DataRange(st));
  cost::Query q;
  q.to = MonthStart(range.second);
  q.from = MonthStart(q.to - 1);
  cost::Filter sagemaker;
  sagemaker.dim.kind = cost::DimKind::kService;
  sagemaker.values = {"AmazonSageMaker"};
  q.filters.push_back(sagemaker);
  Decimal last;
  if (q.from < q.to) {
    ASSIGN_OR_RETURN(auto r, cost::RunQuery(st, q));
    for (const auto& b : r.buckets) last += b.total[0];
  }
  if (last.is_zero()) last = Decimal::FromInt(1000);
  last = Decimal::Div(last * 12, Decimal::FromInt(10));
  const std::string text = fmt::format(
      R"({{"Budgets": [
  {{"BudgetName": "sagemaker-monthly", "BudgetType": "COST", "TimeUnit": "MONTHLY",
    "BudgetLimit": {{"Amount": "{}", "Unit": "USD"}},
    "CostFilters": {{"Service": ["AmazonSageMaker"]}},
    "Notifications": [
      {{"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN",
        "Threshold": 80, "ThresholdType": "PERCENTAGE"}},
      {{"NotificationType": "FORECASTED", "ComparisonOperator": "GREATER_THAN",
        "Threshold": 100, "ThresholdType": "PERCENTAGE"}}]}},
  {{"BudgetName": "savings-plans-utilization", "BudgetType": "SAVINGS_PLANS_UTILIZATION",
    "TimeUnit": "MONTHLY", "BudgetLimit": {{"Amount": "100", "Unit": "PERCENTAGE"}},
    "Notifications": [
      {{"NotificationType": "ACTUAL", "ComparisonOperator": "LESS_THAN",
        "Threshold": 90, "ThresholdType": "PERCENTAGE"}}]}}]}}
)",
      last.ToFixed(0));
  const std::string path = JoinPath(dir, "budgets.json");
  RETURN_IF_ERROR(env->WriteFileAtomic(path, text));
  return path;
}

int RunDemo(const std::string& dir, const cost::DemoOptions& opt,
            const std::vector<cost::DemoFormat>& formats, bool generate_only, bool open,
            ServeFlags* serve) {
  Env* env = Env::Default();
  std::printf(
      "Generating %d months of SageMaker billing data for %d accounts in %d regions into %s\n",
      opt.months, opt.accounts, opt.regions, dir.c_str());
  auto truth = cost::ComputeDemoTotals(opt);
  if (!truth.ok()) return Fail(truth.status());
  Decimal expected;
  for (const auto& p : *truth) expected += p.unblended_cost;

  std::string main_store;
  for (cost::DemoFormat f : formats) {
    std::string name(cost::DemoFormatName(f));
    std::string export_dir = JoinPath(JoinPath(dir, "exports"), name);
    std::string store_dir = JoinPath(JoinPath(dir, "stores"), name);
    (void)env->Remove(store_dir);  // a fresh store per run
    auto files = cost::WriteDemoExport(export_dir, f, opt);
    if (!files.ok()) return Fail(files.status());
    if (generate_only) {
      int64_t rows = 0, bytes = 0;
      for (const auto& fi : *files) {
        rows += fi.rows;
        bytes += fi.bytes;
      }
      std::printf("  %-14s %8lld line items  %10s  in %s\n", name.c_str(),
                  static_cast<long long>(rows), HumanBytes(static_cast<uint64_t>(bytes)).c_str(),
                  export_dir.c_str());
      continue;
    }
    cost::IngestOptions io;
    auto r = cost::Ingest(env, store_dir, {export_dir}, io);
    if (!r.ok()) return Fail(r.status());
    auto total = TotalUnblended(store_dir);
    if (!total.ok()) return Fail(total.status());
    bool agree = *total == expected;
    std::printf("  %-14s %8lld line items  %10s  unblended %s  %s\n", name.c_str(),
                static_cast<long long>(r->rows), HumanBytes(r->plain_bytes).c_str(),
                total->ToFixed(2).c_str(), agree ? "matches the generator" : "MISMATCH");
    if (!agree) {
      return Fail(
          Internal(fmt::format("{}: ingested unblended total {} differs from the generated {}",
                               name, total->ToString(), expected.ToString())));
    }
    if (main_store.empty() || f == cost::DemoFormat::kLegacyCsvGz) main_store = store_dir;
  }
  if (generate_only) return 0;
  std::printf("\nSummary of %s:\n\n", main_store.c_str());
  auto st = store::Store::Open(env, main_store);
  if (!st.ok()) return Fail(st.status());
  auto s = cost::BuildSummary(**st, 0);
  if (!s.ok()) return Fail(s.status());
  std::cout << cost::SummaryToText(*s);

  // Findings: the bill plus job descriptions, metrics and logs written to
  // match it (findings/demo_inputs.h), as a user would pass them.
  auto usage = findings::CollectUsage(**st, findings::CollectOptions{});
  if (!usage.ok()) return Fail(usage.status());
  auto aux = findings::WriteDemoInputs(env, *usage, dir);
  if (!aux.ok()) return Fail(aux.status());
  serve->jobs = {aux->jobs};
  serve->metrics = {aux->metrics};
  serve->logs = {aux->logs};
  catalog::Catalog catalog;
  findings::FindingsInputs in;
  if (Status l = findings::LoadFindingsInputs(env, {serve->jobs, serve->metrics, serve->logs, ""},
                                              &catalog, &in);
      !l.ok()) {
    return Fail(l);
  }
  auto report = findings::RunFindings(**st, in, findings::FindingsConfig{});
  if (!report.ok()) return Fail(report.status());
  std::printf("\n");
  std::cout << findings::RenderFindingsTable(*report);
  const std::string html = JoinPath(dir, "findings.html");
  if (Status w = env->WriteFileAtomic(html, findings::RenderHtmlReport(*report)); !w.ok()) {
    return Fail(w);
  }
  std::printf(
      "\nShareable report: %s\nFindings with the same inputs:\n"
      "  sagebox --store %s cost findings --jobs %s --metrics %s --logs %s\n",
      html.c_str(), main_store.c_str(), aux->jobs.c_str(), aux->metrics.c_str(), aux->logs.c_str());
  std::printf(
      "\nExplore it:\n  sagebox --store %s cost query --group-by USAGE_KIND\n"
      "  sagebox --store %s cost query --granularity DAILY --filter USAGE_TYPE~Notebk "
      "--group-by RESOURCE_ID\n",
      main_store.c_str(), main_store.c_str());

  auto budgets = WriteDemoBudgets(env, **st, dir);
  if (!budgets.ok()) return Fail(budgets.status());
  serve->budgets = *budgets;
  std::printf(
      "\nDashboard (charts, findings, forecast, Savings Plans, budgets) and Cost Explorer API:\n"
      "  sagebox --store %s serve --budgets %s --jobs %s --metrics %s --logs %s\n"
      "  then open http://127.0.0.1:8080/   (or run `sagebox demo --open`)\n",
      main_store.c_str(), budgets->c_str(), aux->jobs.c_str(), aux->metrics.c_str(),
      aux->logs.c_str());
  if (!open) return 0;
  std::printf("\n");
  (void)std::fflush(stdout);
  // The demo's own data folder: its database (no users: open on loopback) and the store.
  Globals g;
  g.data = dir;
  g.store = main_store;
  return Serve(g, *serve);
}

}  // namespace

void AddDemoCommand(CLI::App& app, Globals&, int* exit_code) {
  static std::string dir = "sagebox-demo";
  static cost::DemoOptions opt;
  auto* demo = app.add_subcommand(
      "demo",
      "Generate realistic SageMaker billing data (notebooks, Studio and Data Wrangler apps,\n"
      "processing and training jobs, endpoints, Savings Plans, tax, credits, tags) in every\n"
      "supported export format, ingest each, check the totals agree, and show the summary.");
  demo->add_option("--dir", dir, "Where to write exports and stores")->capture_default_str();
  demo->add_option("--seed", opt.seed, "Random seed (same seed, same data)")->capture_default_str();
  demo->add_option("--months", opt.months, "Billing periods")->capture_default_str();
  demo->add_option("--start-month", opt.start_month, "First billing period, YYYY-MM")
      ->capture_default_str();
  demo->add_option("--rows", opt.target_rows, "Approximate line items (0 = natural size)")
      ->capture_default_str();
  static std::string format_list;
  static bool generate_only = false;
  demo->add_option(
      "--formats", format_list,
      "Comma-separated subset: legacy-csv, legacy-csv-gz, cur1-snake, cur2-csv, focus-csv "
      "(default: all)");
  demo->add_option("--max-rows-per-file", opt.max_rows_per_file,
                   "Split data files after this many rows, as AWS does (0 = one file per period)");
  static bool open = false;
  static ServeFlags serve;
  demo->add_flag("--open", open,
                 "Then serve the dashboard over the demo store (like `sagebox serve`) until "
                 "Ctrl-C");
  demo->add_option("--listen", serve.listen, "With --open: HOST:PORT to listen on")
      ->capture_default_str();
  demo->add_option("--port-file", serve.port_file, "With --open: write the bound port here");
  demo->add_flag("--generate-only", generate_only,
                 "Only write the exports (for benchmarks and your own experiments)");
  demo->callback([exit_code] {
    std::vector<cost::DemoFormat> formats;
    size_t i = 0;
    while (!format_list.empty() && i <= format_list.size()) {
      size_t j = format_list.find(',', i);
      if (j == std::string::npos) j = format_list.size();
      auto f = cost::DemoFormatFromName(format_list.substr(i, j - i));
      if (!f) {
        *exit_code = Fail(InvalidArgument("unknown format '" + format_list.substr(i, j - i) +
                                          "' (expected legacy-csv, legacy-csv-gz, cur1-snake, "
                                          "cur2-csv or focus-csv)"));
        return;
      }
      formats.push_back(*f);
      i = j + 1;
    }
    if (formats.empty()) formats = cost::AllDemoFormats();
    *exit_code = RunDemo(dir, opt, formats, generate_only, open, &serve);
  });
}

}  // namespace sagebox::cli
