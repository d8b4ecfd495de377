// forecast.h: Cost Explorer's GetCostForecast over the store, with the model
// and its backtest errors shown instead of hidden.
//
// The statistics work on a daily series (doubles are fine here: nothing is
// summed into a bill; amounts are turned back into Decimals for output):
//   * three models: weekly seasonal-naive, additive Holt-Winters with a
//     weekly season (parameters fit on a grid by one-step-ahead SSE), and a
//     robust trend (Theil-Sen slope on weekday-deseasonalized values plus
//     median weekday offsets);
//   * a rolling-origin backtest (up to kMaxOrigins origins, horizon-sized
//     test windows) picks the model with the lowest mean absolute error;
//   * prediction intervals come from the chosen model's backtest errors:
//     each error at step k (1-based) is divided by sqrt(k) and by the level
//     of the series at its origin (mean |y| of the week before), pooled, and
//     the pool's empirical quantiles are scaled back by sqrt(k) and today's
//     level. The pool also takes earlier origins (>= 14 training days) than
//     the model choice (>= 28): on generated shapes this brings held-out
//     coverage of 80% intervals to 79.4% (bench/RESULTS.md). The reported
//     coverage is leave-one-origin-out (each origin's actuals against
//     quantiles from the other origins only).
//
// ForecastCost reads the daily signal with RunQuery, excluding one-off line
// item types (tax, credits, refunds, upfront fees) from the training data.
//
// Thread-safety: pure functions; the Store is only read.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"
#include "core/time.h"
#include "cost/query.h"
#include "store/store.h"

namespace sagebox::plan {

enum class Model { kSeasonalNaive, kHoltWinters, kRobustTrend };
// "SEASONAL_NAIVE", "HOLT_WINTERS", "ROBUST_TREND".
std::string_view ModelName(Model m);
const std::vector<Model>& AllModels();

// Fewer days of training history than this and ForecastDaily refuses. Cost
// Explorer wants far more (see docs/budgets.md); two weeks is the least that
// shows a weekly cycle twice and leaves one week to backtest against.
inline constexpr int kMinHistoryDays = 14;
inline constexpr int kMaxOrigins = 12;

// Point forecasts of `model` for the `horizon` days after `train` (which
// must not be empty). Index 0 of `train` fixes the weekday phase.
std::vector<double> PredictModel(Model model, std::span<const double> train, int horizon);

struct ModelScore {
  Model model = Model::kSeasonalNaive;
  double mae = 0;
  double mase = 0;      // MAE / mean |y_t - y_{t-7}| of the history (0 when both are 0)
  double mape = 0;      // percent, over actuals that are not 0; NaN if all were 0
  double coverage = 0;  // share of backtest actuals inside the leave-one-origin-out interval
  int origins = 0;      // backtest origins (all of them, incl. those only used for intervals)
  int points = 0;       // (origin, step) pairs behind mae/mase/mape
};

struct ForecastOptions {
  int horizon = 30;                  // days to forecast, >= 1
  double level = 80;                 // prediction interval level, percent in [50, 99]
  std::optional<Model> force_model;  // skip the choice (benchmarks, tests)
  bool non_negative = true;          // clamp mean and bounds at 0 when the history is >= 0
};

struct DailyForecast {
  Model model = Model::kSeasonalNaive;
  ModelScore chosen;
  std::vector<ModelScore> scores;          // every model, in AllModels() order
  std::vector<double> mean, lower, upper;  // one per horizon day
  int backtest_horizon = 0;
};

// Fits, backtests and forecasts. InvalidArgument when the history is shorter
// than kMinHistoryDays (the message says how many days there are and how many
// are needed) or the options are out of range.
StatusOr<DailyForecast> ForecastDaily(std::span<const double> history, const ForecastOptions& opt);

// Line item types left out of the training signal: one-off charges that do
// not recur with usage.
const std::vector<std::string>& OneOffLineItemTypes();

// The daily sums of the query's first metric over [q.from, q.to), one per
// day, leaving out line items whose type is in `exclude`. Query group-bys
// must be empty (LINE_ITEM_TYPE is used internally). Errors of RunQuery.
StatusOr<std::vector<Decimal>> DailySeries(const store::Store& st, const cost::Query& q,
                                           const std::vector<std::string>& exclude);

struct ForecastRequest {
  cost::Query query;  // filters and metrics[0]; from/to = training window (0 = defaults)
  Days as_of = 0;     // last day of history (0 = the last day with data)
  int horizon = 30;
  double level = 80;
  cost::Granularity granularity = cost::Granularity::kDaily;  // DAILY or MONTHLY output
};

struct ForecastPeriod {
  Days start = 0, end = 0;  // [start, end)
  Decimal mean, lower, upper;
};

struct CostForecast {
  cost::Metric metric = cost::Metric::kUnblended;
  cost::Granularity granularity = cost::Granularity::kDaily;
  std::string currency = "USD";
  Days train_from = 0, train_to = 0;  // [from, to)
  Days start = 0, end = 0;            // forecast period [start, end)
  double level = 80;
  std::vector<ForecastPeriod> periods;
  Decimal total_mean, total_lower, total_upper;
  DailyForecast fit;
  std::vector<std::string> excluded_types;
};

// Default training window: the 90 days ending at as_of (clipped to the
// first day with data). InvalidArgument for bad requests or too little
// history; NotFound for an empty store; errors of RunQuery.
StatusOr<CostForecast> ForecastCost(const store::Store& st, const ForecastRequest& req);

// GetCostForecast's response shape plus a "Sagebox" object with the model,
// its backtest MASE/MAPE/coverage and the training window.
nlohmann::json ForecastToJson(const CostForecast& f);
std::string ForecastToTable(const CostForecast& f);

// A double as a Decimal (rounded to 1e-10); non-finite values become 0.
Decimal DecimalFromDouble(double x);

}  // namespace sagebox::plan
