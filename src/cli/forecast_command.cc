// `sagebox cost forecast`: Cost Explorer's GetCostForecast over the store.
#include <iostream>

#include "cli/cli.h"
#include "cost/plan/forecast.h"
#include "cost/query.h"
#include "store/store.h"

namespace sagebox::cli {

namespace {

struct ForecastFlags {
  std::string from, to, as_of, metric = "UnblendedCost", granularity = "DAILY", format = "table";
  std::vector<std::string> filters;
  int horizon = 30;
  double interval = 80;
};

StatusOr<plan::ForecastRequest> BuildRequest(const ForecastFlags& f) {
  plan::ForecastRequest r;
  RETURN_IF_ERROR(ParseDateFlag("--from", f.from, &r.query.from));
  RETURN_IF_ERROR(ParseDateFlag("--to", f.to, &r.query.to));
  RETURN_IF_ERROR(ParseDateFlag("--as-of", f.as_of, &r.as_of));
  ASSIGN_OR_RETURN(auto m, cost::ParseMetric(f.metric));
  r.query.metrics = {m};
  ASSIGN_OR_RETURN(r.granularity, cost::ParseGranularity(f.granularity));
  if (r.granularity == cost::Granularity::kHourly) {
    return InvalidArgument("--granularity must be DAILY or MONTHLY for a forecast");
  }
  for (const auto& fl : f.filters) {
    ASSIGN_OR_RETURN(auto x, cost::ParseFilter(fl));
    r.query.filters.push_back(x);
  }
  if (f.format != "table" && f.format != "json") {
    return InvalidArgument("--format must be table or json");
  }
  r.horizon = f.horizon;
  r.level = f.interval;
  return r;
}

int Run(const Globals& g, const ForecastFlags& flags) {
  auto req = BuildRequest(flags);
  if (!req.ok()) return Fail(req.status());
  auto st = store::Store::Open(Env::Default(), g.store);
  if (!st.ok()) return Fail(st.status());
  auto f = plan::ForecastCost(**st, *req);
  if (!f.ok()) return Fail(f.status());
  if (flags.format == "json")
    std::cout << plan::ForecastToJson(*f).dump(2) << "\n";
  else
    std::cout << plan::ForecastToTable(*f);
  return 0;
}

}  // namespace

void AddForecastCommand(CLI::App& cost, Globals& g, int* exit_code) {
  static ForecastFlags ff;
  auto* cmd = cost.add_subcommand(
      "forecast",
      "Cost Explorer's GetCostForecast over the store, with the model shown.\n"
      "The training window (default: the 90 days up to --as-of, else the last day with data)\n"
      "leaves out one-off charges (Tax, Credit, Refund, Fee, SavingsPlanUpfrontFee). Three\n"
      "models (weekly seasonal-naive, Holt-Winters with a weekly season, robust trend) are\n"
      "backtested from several origins; the one with the lowest error forecasts, with\n"
      "prediction intervals from its backtest errors. Needs at least 14 days of history.\n"
      "Examples:\n"
      "  sagebox cost forecast --horizon 30\n"
      "  sagebox cost forecast --granularity MONTHLY --horizon 90 --filter USAGE_TYPE~Notebk "
      "--format json");
  cmd->add_option("--from", ff.from, "First training day, YYYY-MM-DD");
  cmd->add_option("--to", ff.to,
                  "Day after the last training day (exclusive); forecast starts here");
  cmd->add_option("--as-of", ff.as_of, "Treat this day (YYYY-MM-DD) as the last day of history");
  cmd->add_option("--metric", ff.metric,
                  "UnblendedCost, AmortizedCost, NetUnblendedCost, BlendedCost or UsageQuantity")
      ->capture_default_str();
  cmd->add_option("--granularity", ff.granularity, "DAILY or MONTHLY")->capture_default_str();
  cmd->add_option("--horizon", ff.horizon, "Days to forecast")->capture_default_str();
  cmd->add_option("--interval", ff.interval, "Prediction interval level, percent (51-99)")
      ->capture_default_str();
  cmd->add_option("--filter", ff.filters,
                  "DIM=VALUE[,VALUE...] or DIM~SUBSTRING, as in `cost query`; repeat to AND");
  cmd->add_option("--format", ff.format, "table or json")->capture_default_str();
  cmd->callback([&g, exit_code] { *exit_code = Run(g, ff); });
}

}  // namespace sagebox::cli
